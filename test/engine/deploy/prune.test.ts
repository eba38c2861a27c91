/** Pruning after a successful run: objects of stages gone from the DAG, and code bundles nothing uses any more. */
import type { KubernetesObject, V1ConfigMap, V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { deployProject } from '../../../src/engine/deploy/deploy.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { batchProject, type BatchStageDef, httpServer, newRunId, planDir, useDeploySandbox, writeProject } from './helpers.js';

const s = useDeploySandbox();
const dirs = s.dirs;

const NS = 'pruning';
const stage = {
  prep: { script: 'print("prep")\n' },
  oldJob: { script: 'print("old job")\n' },
  api: { script: httpServer(5000, 'api'), service: { port: 5000 } },
  oldApi: { script: httpServer(5001, 'old api'), service: { port: 5001 } },
} satisfies Record<string, BatchStageDef>;

async function deploy(dag: string, stages: Record<string, BatchStageDef>, opts: { prune?: boolean } = {}) {
  const dir = await writeProject(batchProject('pruning', dag, stages));
  dirs.push(dir);
  const { spec, plan } = await planDir(dir);
  const logger = new RecordingLogger();
  const runId = newRunId();
  const r = await deployProject({ client: s.client, logger, spec, plan, runId, timeoutMs: 90_000, ...opts });
  expect(r.status, JSON.stringify(r, null, 1)).toBe('success');
  const bundle = plan.setup.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata?.name ?? '');
  expect(bundle).toHaveLength(1);
  return { logger, runId, bundle: bundle[0], pruned: logger.messages('info').filter((m) => m.startsWith('pruned ')) };
}

const live = async (kind: string, name: string) => {
  const o = await s.client.find<KubernetesObject>(kind, NS, name);
  return o !== undefined && !o.metadata?.deletionTimestamp;
};
const jobNames = async () => (await s.client.list<V1Job>('Job', NS)).items.filter((j) => !j.metadata?.deletionTimestamp).map((j) => j.metadata?.name);

describe('prune', () => {
  it('deletes the objects of stages gone from the DAG and bundles nothing uses; prune: false keeps them', async () => {
    // Run 1: four stages.
    const one = await deploy('prep, old-job >> api, old-api', { prep: stage.prep, 'old-job': stage.oldJob, api: stage.api, 'old-api': stage.oldApi });
    expect(one.pruned).toEqual([]);
    for (const [kind, name] of [
      ['Deployment', 'old-api'],
      ['Service', 'old-api'],
      ['Job', `old-job-${one.runId}`],
      ['ConfigMap', one.bundle],
    ]) {
      expect(await live(kind, name), `${kind}/${name}`).toBe(true);
    }
    // Not ours: a plain ConfigMap, and another project's bundle.
    await s.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keep-me', namespace: NS }, data: { a: '1' } });
    await s.client.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'other-code-1', namespace: NS, labels: { 'app.kubernetes.io/managed-by': 'bodywork-deploy', 'app.kubernetes.io/part-of': 'other', 'bodywork.dev/code-hash': 'abc' } },
      data: { a: '1' },
    });

    // Run 2 drops old-job and old-api (and so gets a new bundle): their objects go; api keeps running (its Deployment
    // and Service are those of run 1). Run 1's bundle stays: api's run-1 ReplicaSet (rollout history) still mounts it.
    const apiBefore = await s.client.get<KubernetesObject>('Service', NS, 'api');
    const two = await deploy('prep, api', { prep: stage.prep, api: stage.api });
    expect(two.bundle).not.toBe(one.bundle);
    expect(two.pruned.sort()).toEqual(
      [
        'pruned Deployment/old-api (stage no longer in the DAG)',
        `pruned Job/old-job-${one.runId} (stage no longer in the DAG)`,
        'pruned Service/old-api (stage no longer in the DAG)',
      ].sort(),
    );
    expect(await live('Deployment', 'old-api')).toBe(false);
    expect(await live('Service', 'old-api')).toBe(false);
    expect(await live('ConfigMap', one.bundle)).toBe(true);
    expect(await jobNames()).toEqual([`prep-${two.runId}`]);
    expect(await live('ConfigMap', two.bundle)).toBe(true);
    expect(await live('Deployment', 'api')).toBe(true);
    expect((await s.client.get<KubernetesObject>('Service', NS, 'api')).metadata?.uid).toBe(apiBefore.metadata?.uid);
    expect(await live('ConfigMap', 'keep-me')).toBe(true);
    expect(await live('ConfigMap', 'other-code-1')).toBe(true);

    // Run 3 drops api, with prune: false: everything stays, including an unreferenced bundle of ours.
    await s.client.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'pruning-code-stale', namespace: NS, labels: { 'app.kubernetes.io/managed-by': 'bodywork-deploy', 'app.kubernetes.io/part-of': 'pruning', 'bodywork.dev/code-hash': 'stale' } },
      data: { a: '1' },
    });
    const three = await deploy('prep', { prep: stage.prep }, { prune: false });
    expect(three.pruned).toEqual([]);
    expect(await live('Deployment', 'api')).toBe(true);
    expect(await live('Service', 'api')).toBe(true);
    expect(await live('ConfigMap', 'pruning-code-stale')).toBe(true);

    // Run 4, the same project with pruning: api goes, and with it (its ReplicaSets pruned along) the bundles of runs 1
    // and 2, and the stale one nothing used. Run 4's (the same files as run 3) stays, and the other project's.
    const four = await deploy('prep', { prep: stage.prep });
    expect(four.bundle).toBe(three.bundle);
    expect(four.pruned.sort()).toEqual(
      [
        'pruned Deployment/api (stage no longer in the DAG)',
        'pruned Service/api (stage no longer in the DAG)',
        `pruned ConfigMap/${one.bundle} (code bundle no longer used)`,
        `pruned ConfigMap/${two.bundle} (code bundle no longer used)`,
        'pruned ConfigMap/pruning-code-stale (code bundle no longer used)',
      ].sort(),
    );
    expect(await live('Deployment', 'api')).toBe(false);
    expect(await live('ConfigMap', 'pruning-code-stale')).toBe(false);
    const left = (await s.client.list<V1ConfigMap>('ConfigMap', NS, { labelSelector: 'bodywork.dev/code-hash' })).items.map((c) => c.metadata?.name).sort();
    expect(left).toEqual([four.bundle, 'other-code-1'].sort());
    expect(await jobNames()).toEqual([`prep-${four.runId}`]);
  });
});
