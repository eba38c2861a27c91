/**
 * `checkOnServer` (plan --server) against the test cluster: every planned object dry-run by the API server, every
 * refusal reported, a kubectl-diff-like diff against what is live, Secret values never printed, nothing written.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { deployProject } from '../../../src/engine/deploy/deploy.js';
import { checkOnServer, type ServerCheckResult } from '../../../src/engine/deploy/dry-run.js';
import { KubeApiError } from '../../../src/engine/kube/index.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { clusterTarget } from '../../support/cluster.js';
import { batchProject, httpServer, newRunId, planDir, useDeploySandbox } from './helpers.js';

const s = useDeploySandbox();

const pipeline = (name: string, port: number, o: { replicas?: number; cpu?: number } = {}) =>
  batchProject(name, 'train >> api', {
    train: { script: 'print("trained", flush=True)\n', cpu: o.cpu ?? 0.1 },
    api: { script: httpServer(port, 'ok'), service: { port, replicas: o.replicas ?? 1 } },
  });

/** Every object of the kinds a deploy writes in `namespace`, by kind/name, minus what every namespace has. */
async function objectsIn(namespace: string): Promise<string[]> {
  const kinds = ['ConfigMap', 'Secret', 'ServiceAccount', 'Role', 'RoleBinding', 'Job', 'Deployment', 'Service', 'Ingress'];
  const found = await Promise.all(kinds.map(async (k) => (await s.client.list(k, namespace)).items.map((o) => `${k}/${o.metadata?.name}`)));
  return found.flat().filter((o) => !['ConfigMap/kube-root-ca.crt', 'ServiceAccount/default'].includes(o)).sort();
}

const everything = (r: ServerCheckResult) => JSON.stringify(r);

describe('checkOnServer', () => {
  it('dry-runs a clean project into an existing namespace: every object a creation, all-added diffs, nothing written', async () => {
    await s.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'dry-clean' } });
    const dir = await s.project(pipeline('dry-clean', 5601));
    const { plan } = await planDir(dir, { runId: newRunId() });
    const secretValue = 'hunter2-very-secret';
    const r = await checkOnServer({ client: s.client, logger: new RecordingLogger(), plan, secrets: [{ name: 'creds', data: { TOKEN: secretValue } }] });

    expect(r.ok).toBe(true);
    expect(r.refused).toEqual([]);
    expect(r.namespaceExists).toBe(true);
    expect(r.objects.map((o) => `${o.outcome} ${o.object}`)).toEqual([
      'unchanged Namespace dry-clean',
      'create ServiceAccount dry-clean/bodywork-stage',
      'create Role dry-clean/bodywork-stage',
      'create RoleBinding dry-clean/bodywork-stage',
      expect.stringMatching(/^create ConfigMap dry-clean\/dry-clean-code-[0-9a-f]+$/),
      'create Secret dry-clean/creds',
      expect.stringMatching(/^create Job dry-clean\/train-\S+$/),
      'create Service dry-clean/api',
      'create Deployment dry-clean/api',
    ]);
    const deployment = r.objects.find((o) => o.kind === 'Deployment')!;
    const lines = deployment.diff.split('\n');
    expect(lines[0]).toBe('--- /dev/null');
    expect(lines[1]).toBe('+++ MERGED/apps.v1.Deployment.dry-clean.api');
    // All added, and holding what the server defaulted (the plan sets no scheduler).
    expect(lines.slice(3).filter((l) => l !== '').every((l) => l.startsWith('+'))).toBe(true);
    expect(deployment.diff).toMatch(/\+ {6}schedulerName: default-scheduler/);
    expect(deployment.diff).not.toMatch(/managedFields|resourceVersion|creationTimestamp|uid:/);
    // The Secret's key is shown, its value never (nor its base64).
    const secret = r.objects.find((o) => o.kind === 'Secret')!;
    expect(secret.diff).toMatch(/\+ {2}TOKEN: ["']?\*\*\*["']?\n/);
    expect(everything(r)).not.toContain(secretValue);
    expect(everything(r)).not.toContain(Buffer.from(secretValue).toString('base64'));
    // The code ConfigMap's files by size and sha256, never their content.
    expect(r.objects.find((o) => o.kind === 'ConfigMap')!.diff).toMatch(/file content not shown: \d+ bytes, sha256 [0-9a-f]{64}/);
    expect(everything(r)).not.toContain('trained');

    expect(await objectsIn('dry-clean')).toEqual([]);
  });

  it('reports the objects of a namespace that does not exist as unchecked, as the API server will not check them yet', async () => {
    const dir = await s.project(pipeline('dry-new', 5602));
    const { plan } = await planDir(dir, { runId: newRunId() });
    // What the server does: a namespaced dry run in a missing namespace is NotFound (the namespace's), not checked.
    const refused = await s.client
      .create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'dry-new' } }, { dryRun: true })
      .then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(KubeApiError);
    expect((refused as KubeApiError).statusCode).toBe(404);
    expect((refused as KubeApiError).serverMessage).toBe('namespaces "dry-new" not found');

    const r = await checkOnServer({ client: s.client, logger: new RecordingLogger(), plan });
    expect(r.ok).toBe(true);
    expect(r.namespaceExists).toBe(false);
    expect(r.objects[0]).toMatchObject({ object: 'Namespace dry-new', outcome: 'create' });
    expect(r.objects[0].diff).toContain('+  name: dry-new');
    expect(r.unchecked.map((o) => o.kind)).toEqual(['ServiceAccount', 'Role', 'RoleBinding', 'ConfigMap', 'Job', 'Service', 'Deployment']);
    for (const o of r.unchecked) {
      expect(o.message).toBe('namespace dry-new does not exist yet');
      expect(o.diff).toMatch(/^--- \/dev\/null\n/);
    }
    expect(await s.client.exists('Namespace', undefined, 'dry-new')).toBe(false);
  });

  it('after a deploy, shows only what a changed project changes', async () => {
    const dir = await s.project(pipeline('dry-change', 5603));
    const runId = newRunId();
    const first = await planDir(dir, { runId });
    const deployed = await deployProject({ client: s.client, logger: new RecordingLogger(), spec: first.spec, plan: first.plan, runId, timeoutMs: 150_000 });
    expect(deployed.status, JSON.stringify(deployed)).toBe('success');
    const before = await objectsIn('dry-change');
    const rv = (await s.client.get<V1Deployment>('Deployment', 'dry-change', 'api')).metadata?.resourceVersion;

    // Unchanged project: nothing to show.
    const same = await checkOnServer({ client: s.client, logger: new RecordingLogger(), plan: (await planDir(dir, { runId: newRunId() })).plan });
    expect(same.objects.filter((o) => o.outcome !== 'unchanged').map((o) => `${o.object}\n${o.diff}`)).toEqual([]);
    const job = same.objects.find((o) => o.kind === 'Job')!;
    expect(job.comparedWith).toMatch(/^train-/);

    // Two replicas and more CPU for training: exactly those lines change, and the code bundle (it holds bodywork.yaml)
    // is a new ConfigMap, which the pods mount instead of the old one.
    const changed = await s.project(pipeline('dry-change', 5603, { replicas: 2, cpu: 0.2 }));
    const { plan } = await planDir(changed, { runId: newRunId() });
    const r = await checkOnServer({ client: s.client, logger: new RecordingLogger(), plan });
    expect(r.ok).toBe(true);
    expect(r.objects.filter((o) => o.outcome !== 'unchanged').map((o) => `${o.outcome} ${o.kind}`)).toEqual(['create ConfigMap', 'update Job', 'update Deployment']);
    const oldCode = before.find((o) => o.startsWith('ConfigMap/'))!.slice('ConfigMap/'.length);
    const newCode = plan.setup.find((o) => o.kind === 'ConfigMap')!.metadata!.name!;
    const codeLines = ['- name: ' + oldCode, '+ name: ' + newCode];
    const changes = (kind: string) =>
      r.objects
        .find((o) => o.kind === kind)!
        .diff.split('\n')
        .filter((l) => /^[-+][^-+]/.test(l))
        .map((l) => l.replace(/\s+/g, ' '));
    expect(changes('Deployment')).toEqual(['- replicas: 1', '+ replicas: 2', ...codeLines]);
    expect(changes('Job')).toEqual(['- cpu: 100m', '+ cpu: 200m', ...codeLines]);
    expect(r.objects.find((o) => o.kind === 'Job')!.diff).toMatch(/^--- LIVE\/batch\.v1\.Job\.dry-change\.train-\S+\n\+\+\+ MERGED\/batch\.v1\.Job\.dry-change\.train-\S+\n/);

    // Nothing was written by either check.
    expect(await objectsIn('dry-change')).toEqual(before);
    expect((await s.client.get<V1Deployment>('Deployment', 'dry-change', 'api')).metadata?.resourceVersion).toBe(rv);
  });

  it('reports every refusal at once, naming the object and giving the server\'s message', async () => {
    const ns = 'dry-refused';
    await s.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const files = batchProject(ns, 'a,b', {
      a: { script: httpServer(5604, 'a'), service: { port: 5604 } },
      b: { script: httpServer(5605, 'b'), service: { port: 5605 } },
    });
    // Deployments of the same names made by someone else, selecting other pods: a selector is immutable.
    for (const name of ['a', 'b']) {
      const labels = { app: `theirs-${name}` };
      await s.client.create({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: ns },
        spec: { replicas: 0, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
      });
    }
    const { plan } = await planDir(await s.project(files), { runId: newRunId() });
    const r = await checkOnServer({ client: s.client, logger: new RecordingLogger(), plan });
    expect(r.ok).toBe(false);
    expect(r.refused.map((o) => o.object)).toEqual([`Deployment ${ns}/a`, `Deployment ${ns}/b`]);
    for (const o of r.refused) {
      expect(o.reason).toBe('Invalid');
      expect(o.message).toMatch(/^Deployment\.apps "[ab]" is invalid: spec\.selector: Invalid value: .*field is immutable/);
    }
    // The other objects were still checked.
    expect(r.objects.filter((o) => o.kind === 'Service').map((o) => o.outcome)).toEqual(['create', 'create']);
    expect(await objectsIn(ns)).toEqual(['Deployment/a', 'Deployment/b']);
  });

  // Pod Security admission and quotas are the real API server's; the sandbox has neither (src/sandbox/apiserver/README.md).
  it.runIf(clusterTarget() === 'upstream')('refuses the stages of a namespace that enforces Pod Security restricted, and what a quota forbids', async () => {
    const ns = 'dry-restricted';
    await s.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } });
    await s.client.create({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'no-services', namespace: ns }, spec: { hard: { services: '0' } } });
    const { plan } = await planDir(await s.project(pipeline(ns, 5606)), { runId: newRunId() });
    const r = await checkOnServer({ client: s.client, logger: new RecordingLogger(), plan });
    expect(r.ok).toBe(false);
    expect(r.refused.map((o) => `${o.reason} ${o.object}`)).toEqual([expect.stringMatching(/^PodSecurity Job dry-restricted\/train-/), `Forbidden Service ${ns}/api`, `PodSecurity Deployment ${ns}/api`]);
    expect(r.refused[0].message).toMatch(/^namespace=dry-restricted enforces Pod Security "restricted:latest", which rejects the stage's pods: .*runAsNonRoot/);
    expect(r.refused[1].message).toMatch(/exceeded quota: no-services/);
    expect(await objectsIn(ns)).toEqual([]);
  });
});
