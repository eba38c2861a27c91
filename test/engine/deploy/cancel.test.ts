/** Cancellation and the overall timeout: in-flight stages end `cancelled`, their Jobs are deleted, the run fails within seconds. */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { deployProject } from '../../../src/engine/deploy/deploy.js';
import { waitFor } from '../../../src/engine/kube/index.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { batchProject, newRunId, planDir, useDeploySandbox } from './helpers.js';

const s = useDeploySandbox();

const project = s.project;

/** Resolves once the namespace has no Jobs and no pods that are not finished. */
async function noRunningWork(namespace: string): Promise<void> {
  await waitFor<V1Job, true>({ client: s.client, path: `/apis/batch/v1/namespaces/${namespace}/jobs` }, (jobs) => jobs.size === 0 || undefined, { timeoutMs: 20_000 });
  await waitFor<V1Pod, true>(
    { client: s.client, path: `/api/v1/namespaces/${namespace}/pods` },
    (pods) => [...pods.values()].every((p) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') || undefined,
    { timeoutMs: 20_000 },
  );
}

const longStages = (name: string) =>
  batchProject(name, 'a, b >> c', {
    a: { script: 'import time\nprint("a started", flush=True)\ntime.sleep(120)\n' },
    b: { script: 'import time\nprint("b started", flush=True)\ntime.sleep(120)\n' },
    c: { script: 'print("c must not run")\n' },
  });

describe('cancellation', () => {
  it('cancels the running stages, deletes their Jobs and skips the rest, within seconds', async () => {
    const dir = await project(longStages('cancel-me'));
    const { spec, plan } = await planDir(dir);
    const abort = new AbortController();
    const seen = new Set<string>();
    let aborted = false;
    const r = await deployProject({
      client: s.client,
      logger: new RecordingLogger(),
      spec,
      plan,
      runId: newRunId(),
      signal: abort.signal,
      timeoutMs: 60_000,
      onLogLine: (stage, line) => {
        if (line.endsWith(' started')) seen.add(stage);
        if (seen.size === 2 && !abort.signal.aborted) {
          aborted = true;
          abort.abort();
        }
      },
    });
    expect(aborted).toBe(true);
    expect(r.status).toBe('failure');
    expect(r.reason).toBe('the deployment was cancelled');
    expect(r.stages.map((x) => [x.stage, x.status])).toEqual([
      ['a', 'cancelled'],
      ['b', 'cancelled'],
      ['c', 'skipped'],
    ]);
    await noRunningWork(plan.namespace);
  });

  it('ends a run that outlives its timeout the same way', async () => {
    const dir = await project(longStages('too-slow'));
    const { spec, plan } = await planDir(dir);
    const r = await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan, runId: newRunId(), timeoutMs: 4_000 });
    expect(r.status).toBe('failure');
    expect(r.reason).toBe('the deployment timed out after 4s');
    expect(r.stages.map((x) => x.status)).toEqual(['cancelled', 'cancelled', 'skipped']);
    expect(r.stages[0].reason).toBe('the deployment timed out after 4s');
    await noRunningWork(plan.namespace);
  });

  it('starts nothing when already cancelled', async () => {
    const dir = await project(longStages('pre-cancelled'));
    const { spec, plan } = await planDir(dir);
    const abort = new AbortController();
    abort.abort();
    const r = await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan, runId: newRunId(), signal: abort.signal });
    expect(r.status).toBe('failure');
    expect(r.stages.every((x) => x.status === 'skipped')).toBe(true);
    expect(await s.client.exists('Namespace', undefined, plan.namespace)).toBe(false);
  });
});
