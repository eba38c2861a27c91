/**
 * The README's "Minimal RBAC", proven on the upstream control plane (RBAC and Node authorization on): a ServiceAccount
 * bound to exactly that ClusterRole runs, through the action bundle, a deploy of the tutorial pipeline, a re-deploy,
 * a failed rollout with its rollback, a PR preview and its teardown, and a teardown. Then each rule is taken away in
 * turn, and the deploy (or teardown, for what only a teardown uses) must fail with a clear forbidden error naming the
 * verb and the resource, with nothing written before. The stage ServiceAccount's Role is checked by the real authorizer.
 */
import { execFile } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxKubeconfig } from '../../src/sandbox/index.js';
import { NodeHttp } from '../../src/sandbox/node/http.js';
import { startFakeGitHub, type FakeGitHub } from '../action/support/fake-github.js';
import { root, runAction, type ActionRun } from '../action/support/run-action.js';
import { batchProject, httpServer, removeProject, writeProject } from '../engine/deploy/helpers.js';
import { serviceAccountToken, startTestCluster, type TestCluster } from '../support/cluster.js';
import { startObjectStore } from '../../src/cli/object-store.js';
import { KubeClient, loadKubeConfig } from '../../src/engine/kube/index.js';

const run = promisify(execFile);
let cluster: TestCluster;
let admin: NodeHttp;
let adminFile: string;
let kubeconfig: string;
let gh: FakeGitHub;
const dirs: string[] = [];

/** The README's ClusterRole and ClusterRoleBinding, as a user would copy them. */
function readmeRbac(): { clusterRole: any; binding: any } {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Minimal RBAC for the kubeconfig user'));
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1];
  const [clusterRole, binding] = parseAllDocuments(yaml).map((d) => d.toJS());
  return { clusterRole, binding };
}
const RBAC = readmeRbac();

const kubectl = (...args: string[]) => run('kubectl', ['--kubeconfig', adminFile, ...args]).then((r) => r.stdout);

async function applyClusterRole(rules: unknown[]): Promise<void> {
  const file = join(dirs[0], 'role.json');
  writeFileSync(file, JSON.stringify({ ...RBAC.clusterRole, rules }));
  await kubectl('apply', '-f', file);
}

beforeAll(async () => {
  cluster = await startTestCluster('upstream', { sharedPythonCache: true });
  admin = new NodeHttp(cluster.adminKubeconfig);
  dirs.push(await writeProject({}));
  adminFile = join(dirs[0], 'admin.kubeconfig');
  writeFileSync(adminFile, cluster.adminKubeconfig, { mode: 0o600 });
  // The subject of the README's binding: ServiceAccount ci/bodywork-deploy.
  const subject = RBAC.binding.subjects[0];
  await kubectl('create', 'namespace', subject.namespace);
  await kubectl('-n', subject.namespace, 'create', 'serviceaccount', subject.name);
  await applyClusterRole(RBAC.clusterRole.rules);
  const bindingFile = join(dirs[0], 'binding.json');
  writeFileSync(bindingFile, JSON.stringify(RBAC.binding));
  await kubectl('apply', '-f', bindingFile);
  const token = await serviceAccountToken(admin, subject.namespace, subject.name);
  const server = /server: (\S+)/.exec(cluster.kubeconfig)![1];
  const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(cluster.kubeconfig)![1], 'base64').toString('utf8');
  kubeconfig = sandboxKubeconfig({ url: server, caCert: ca, token });
  gh = await startFakeGitHub();
}, 300_000);

afterAll(async () => {
  await gh?.stop();
  await cluster?.stop();
  await Promise.all(dirs.map(removeProject));
});

async function workspace(files: Record<string, string>): Promise<string> {
  const ws = await writeProject(Object.fromEntries(Object.entries(files).map(([k, v]) => [`project/${k}`, v])));
  dirs.push(ws);
  return ws;
}

const pipeline = (name: string, port: number, api = httpServer(port, 'ok'), ingress = false) =>
  batchProject(name, 'train >> api', { train: { script: 'print("trained", flush=True)\n' }, api: { script: api, service: { port, ingress } } });

/**
 * Rules a deploy does without, by design, with the debug line that says so when a successful deploy needs one:
 * without `list ingressclasses` ingresses get no class; without `list events` a failure's summary shows no pod events.
 */
const OPTIONAL = new Map<string, string | undefined>([
  ['networking.k8s.io/ingressclasses', '::debug::not allowed to list IngressClasses: ingresses get no class'],
  ['core/events', undefined],
  // Only `bodywork-deploy schedule` needs it; deploys, prune and teardown do without.
  ['batch/cronjobs', undefined],
]);

const errors = (r: ActionRun) => r.stdout.split('\n').filter((l) => l.startsWith('::error'));
const bundle = (ws: string, inputs: Record<string, string>, extra: Partial<Parameters<typeof runAction>[0]> = {}) =>
  runAction({ entry: 'bundle', workspace: ws, inputs: { kubeconfig, 'project-dir': 'project', timeout: '3m', ...inputs }, ...extra });

describe("the README's minimal RBAC on kube-apiserver", () => {
  it('deploys the tutorial, re-deploys it, and tears it down', async () => {
    const ws = await writeProject({});
    dirs.push(ws);
    cpSync(join(root, 'examples', 'iris-pipeline'), join(ws, 'project'), { recursive: true });
    // The model store is the cluster admin's (started as `deploy --sandbox` does); its Secret comes in the
    // `secrets` input, as a workflow would pass its store's credentials.
    const store = await startObjectStore(KubeClient.create(loadKubeConfig({ content: cluster.adminKubeconfig }).kc), cluster, { timeoutMs: 180_000 });
    const secrets = Object.entries(store.data).map(([k, v]) => `model-store.${k}=${v}`).join('\n');
    const first = await bundle(ws, { namespace: 'rbac-iris', secrets });
    expect(first.status, first.stdout + first.stderr).toBe(0);
    const again = await bundle(ws, { namespace: 'rbac-iris', secrets });
    expect(again.status, again.stdout + again.stderr).toBe(0);
    const down = await bundle(ws, { namespace: 'rbac-iris', command: 'teardown' });
    expect(down.status, down.stdout + down.stderr).toBe(0);
    expect(down.stdout).toContain('deleted namespace=rbac-iris');
  });

  it('rolls a service that never becomes ready back to the previous version', async () => {
    const good = await workspace(pipeline('rbac-roll', 5401));
    const ok = await bundle(good, {});
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    const bad = await workspace(pipeline('rbac-roll', 5401, 'import sys\nprint("cannot load the model", flush=True)\nsys.exit(3)\n'));
    const r = await bundle(bad, {});
    expect(r.status).toBe(1);
    expect(errors(r)).toEqual([expect.stringMatching(/^::error::bodywork-deploy: stage 'api' \(step 2\) was rolled back: /)]);
    expect(r.stdout + r.stderr).not.toMatch(/forbidden/i);
  });

  it('deploys a PR preview and tears it down when the PR closes', async () => {
    const ws = await workspace(pipeline('rbac-preview', 5402));
    const pr = (action: string) => ({ action, number: 9, pull_request: { number: 9, head: { sha: 'c'.repeat(40), repo: { full_name: 'acme/iris', fork: false } }, base: { repo: { full_name: 'acme/iris' } } } });
    const inputs = { namespace: 'rbac', 'github-token': 'ghs_rbacTest0123456789' };
    const env = { GITHUB_API_URL: gh.url };
    const opened = await bundle(ws, inputs, { env, event: { name: 'pull_request', payload: pr('opened') } });
    expect(opened.status, opened.stdout + opened.stderr).toBe(0);
    expect(opened.outputs.namespace).toBe('rbac-pr-9');
    const closed = await bundle(ws, inputs, { env, event: { name: 'pull_request', payload: pr('closed') } });
    expect(closed.status, closed.stdout + closed.stderr).toBe(0);
    expect((await admin.request('GET', '/api/v1/namespaces')).items.map((n: any) => n.metadata.name)).not.toContain('rbac-pr-9');
  });

  it("gives the stages' ServiceAccount read access to the namespace's Secrets and ConfigMaps, nothing more", async () => {
    const ws = await workspace(pipeline('rbac-stage', 5403));
    expect((await bundle(ws, {})).status).toBe(0);
    const can = async (verb: string, resource: string, ns = 'rbac-stage') =>
      (await run('kubectl', ['--kubeconfig', adminFile, 'auth', 'can-i', verb, resource, '-n', ns, '--as', 'system:serviceaccount:rbac-stage:bodywork-stage']).catch((e) => e)).stdout.trim();
    expect(await can('get', 'secrets')).toBe('yes');
    expect(await can('list', 'configmaps')).toBe('yes');
    expect(await can('create', 'secrets')).toBe('no');
    expect(await can('list', 'pods')).toBe('no');
    expect(await can('get', 'secrets', 'kube-system')).toBe('no');
  });

  it('fails with a clear forbidden error, naming the verb and resource, whichever rule is missing', async () => {
    const rules: any[] = RBAC.clusterRole.rules;
    const seen: string[] = [];
    try {
      for (const [i, rule] of rules.entries()) {
        await applyClusterRole(rules.filter((_, j) => j !== i));
        const ns = `rbac-cut-${i}`;
        const ws = await workspace(pipeline(ns, 5410 + i, undefined, true));
        const deploy = await bundle(ws, {});
        const what = `${rule.apiGroups[0] || 'core'}/${rule.resources.join(',')}`;
        if (OPTIONAL.has(what)) {
          expect(deploy.status, `${what}: ${deploy.stdout}`).toBe(0);
          const said = OPTIONAL.get(what);
          if (said !== undefined) expect(deploy.stdout).toContain(said);
          seen.push(what);
          continue;
        }
        const outcome = deploy.status === 0 ? await bundle(ws, { command: 'teardown' }) : deploy;
        expect(outcome.status, `${what}: ${outcome.stdout}`).toBe(1);
        const [error] = errors(outcome);
        expect(error, what).toMatch(/forbidden/i);
        expect(error, what).toMatch(new RegExp(`cannot (${rule.verbs.join('|')}) `));
        expect(error, what).toMatch(new RegExp(`(${rule.resources.join('|')})`));
        expect(outcome.stdout + outcome.stderr, what).not.toMatch(/\n\s+at /);
        // The batch stage before still ran: it says its log could not be followed.
        if (what === 'core/pods,pods/log') expect(deploy.stdout).toMatch(/\[train\] the watch of Job train-\S+'s pods failed: Kubernetes API refused to watch Pods in namespace 'rbac-cut-\d+': 403 Forbidden .*; the stage's log may be incomplete/);
        // Nothing left half-done: no pod of a stage's Job still pending or running, and the namespace's deploy lock free.
        const pods = await admin.request('GET', `/api/v1/namespaces/${ns}/pods?labelSelector=job-name`);
        expect(pods.items.filter((p: any) => ['Pending', 'Running'].includes(p.status?.phase) && !p.metadata.deletionTimestamp).map((p: any) => p.metadata.name), what).toEqual([]);
        const lease = await admin.request('GET', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/bodywork-deploy`).catch(() => undefined);
        expect(lease?.spec?.holderIdentity ?? '', what).toBe('');
        seen.push(what);
      }
    } finally {
      await applyClusterRole(rules);
    }
    expect(seen).toHaveLength(rules.length);
  });
});
