/**
 * A batch stage is done as soon as its pod has succeeded, not when the Job's Complete condition appears, which
 * kube-controller-manager writes up to a second later (it batches pod updates). Here a stand-in replaces the Job
 * controller: it creates the Job's pod and never marks the Job, so only the pod can tell. Embedded only: upstream's
 * controller cannot be held back (`npm run bench` measures the gain there).
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployProject } from '../../../src/engine/deploy/deploy.js';
import { KubeClient, loadKubeConfig, watchObjects } from '../../../src/engine/kube/index.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { LIFECYCLE_CONTROLLERS } from '../../../src/sandbox/controllers/index.js';
import { startTestCluster, type TestCluster } from '../../support/cluster.js';
import { batchProject, newRunId, planDir, removeProject, writeProject } from './helpers.js';

let cluster: TestCluster;
let client: KubeClient;
const standIn = new AbortController();
const dirs: string[] = [];

beforeAll(async () => {
  cluster = await startTestCluster('embedded', { sandbox: { controllers: { enabled: [...LIFECYCLE_CONTROLLERS, 'scheduler', 'replicaset', 'deployment', 'endpoints'] } } });
  client = KubeClient.create(loadKubeConfig({ content: cluster.kubeconfig }).kc, new RecordingLogger());
  // The stand-in Job controller: one pod per new Job, as the real one creates it; the Job's status is never written.
  void watchObjects<V1Job>({
    client,
    path: '/apis/batch/v1/jobs',
    signal: standIn.signal,
    onEvent: (e) => {
      if (e.type !== 'ADDED') return;
      const job = e.object;
      const pod: V1Pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${job.metadata!.name}-pod`,
          namespace: job.metadata!.namespace,
          labels: { ...job.spec!.template.metadata?.labels, 'job-name': job.metadata!.name! },
          ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata!.name!, uid: job.metadata!.uid!, controller: true }],
        },
        spec: job.spec!.template.spec!,
      };
      void client.create(pod as never).catch(() => {});
    },
  }).catch(() => {});
});
afterAll(async () => {
  standIn.abort();
  await cluster?.stop();
  await Promise.all(dirs.map(removeProject));
});

describe('batch stage completion', () => {
  it("succeeds when the stage's pod succeeded, whether or not the Job has been marked Complete yet", async () => {
    const dir = await writeProject(batchProject('pod-done', 'train', { train: { script: 'print("trained", flush=True)\n' } }));
    dirs.push(dir);
    const { spec, plan } = await planDir(dir);
    const r = await deployProject({ client, logger: new RecordingLogger(), spec, plan, runId: newRunId(), timeoutMs: 90_000 });
    expect(r.status, JSON.stringify(r)).toBe('success');
    const jobs = await client.list<V1Job>('Job', plan.namespace);
    expect(jobs.items.map((j) => j.status?.conditions ?? [])).toEqual([[]]);
  });
});
