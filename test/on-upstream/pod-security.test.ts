/**
 * Pod Security admission on kube-apiserver: a namespace that enforces `baseline` takes the planned pods; one that
 * enforces `restricted` rejects them, and the deploy fails at once naming the policy and what it wants, for a batch
 * stage (the Job is created with a warning, then its pods are refused) and a service stage (the ReplicaSet cannot
 * create pods), never by waiting for the timeout.
 */
import { describe, expect, it } from 'vitest';
import { deployProject } from '../../src/engine/deploy/deploy.js';
import { RecordingLogger } from '../../src/engine/logger.js';
import { batchProject, httpServer, newRunId, planDir, useDeploySandbox, writeProject } from '../engine/deploy/helpers.js';

const s = useDeploySandbox();
const dirs = s.dirs;

async function deployInto(level: string, name: string, files: Record<string, string>) {
  await s.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'pod-security.kubernetes.io/enforce': level } } });
  const dir = await writeProject(files);
  dirs.push(dir);
  const { spec, plan } = await planDir(dir, { namespace: name });
  // A generous timeout: the run must end long before it, with the policy's reason rather than "timed out".
  return deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan, runId: newRunId(), timeoutMs: 150_000 });
}

const pipeline = (name: string, port: number) =>
  batchProject(name, 'train >> api', { train: { script: 'print("trained", flush=True)\n' }, api: { script: httpServer(port, 'ok'), service: { port } } });

describe('Pod Security admission', () => {
  it('deploys into a namespace that enforces baseline', async () => {
    const r = await deployInto('baseline', 'psa-baseline', pipeline('psa-baseline', 5501));
    expect(r.status, JSON.stringify(r)).toBe('success');
  });

  it('fails a batch stage at once in a namespace that enforces restricted, naming the policy', async () => {
    const r = await deployInto('restricted', 'psa-restricted', pipeline('psa-restricted', 5502));
    expect(r.status).toBe('failure');
    expect(r.reason).toBeUndefined();
    expect(r.stages[0]).toMatchObject({ stage: 'train', status: 'failed' });
    expect(r.stages[0].reason).toMatch(/^namespace=psa-restricted enforces Pod Security "restricted:latest", which rejects the stage's pods: .*runAsNonRoot != true.* \(Job train-\S+ deleted\)$/);
    expect(r.stages[1]).toMatchObject({ stage: 'api', status: 'skipped' });
    expect((await s.client.list('Job', 'psa-restricted')).items.filter((j) => !j.metadata?.deletionTimestamp)).toEqual([]);
  });

  it('fails a service stage at once there too, with the ReplicaSet\'s reason', async () => {
    const files = batchProject('psa-service', 'api', { api: { script: httpServer(5503, 'ok'), service: { port: 5503 } } });
    const r = await deployInto('restricted', 'psa-service', files);
    expect(r.status).toBe('failure');
    expect(r.reason).toBeUndefined();
    expect(r.stages[0].reason).toMatch(/FailedCreate.*violates PodSecurity "restricted:latest"/);
  });
});
