/**
 * A deployment through a faulty API server (seeded: 10% 500s, some 429s with Retry-After, every watch cut after
 * 2 s) ends exactly as one through a healthy server: same stage results, one Job per batch stage, one
 * ReplicaSet per service, the lock released.
 */
import type { V1Job, V1Lease, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { deployProject } from '../../../src/engine/deploy/deploy.js';
import { LOCK_NAME } from '../../../src/engine/deploy/lock.js';
import type { DeployResult } from '../../../src/engine/deploy/types.js';
import { KubeClient, loadKubeConfig } from '../../../src/engine/kube/index.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { startSandbox, type Sandbox } from '../../../src/sandbox/index.js';
import type { FaultOptions } from '../../../src/sandbox/apiserver/faults.js';
import { batchProject, httpServer, newRunId, planDir, removeProject, sharedDir, writeProject } from './helpers.js';

const sandboxes: Sandbox[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(sandboxes.map((s) => s.stop()));
  await Promise.all(dirs.map(removeProject));
});

// Faults for the deploy client's requests only: the node agent's (client-certificate) requests, timed by its own
// loops, would draw from the same seeded sequence and change which of the client's requests are hit.
const FAULTS: FaultOptions = { seed: 7, errorRate: 0.1, throttleRate: 0.08, retryAfterSeconds: 1, watchCutAfterSeconds: 2, certClients: false };

interface Outcome {
  result: DeployResult;
  lines: string[];
  clientLog: RecordingLogger;
  jobs: Record<string, string[]>;
  pods: Record<string, number>;
  replicaSets: string[];
  lease: boolean;
}

/** Deploys the project in a fresh sandbox (with `faults`) and collects what is left in the namespace. */
async function deployIn(faults: FaultOptions | undefined, runId: string): Promise<Outcome> {
  const sandbox = await startSandbox({ controllers: { jobBackoffBaseMs: 100 }, warn: () => {}, ...(faults ? { faults } : {}) });
  sandboxes.push(sandbox);
  const clientLog = new RecordingLogger();
  const client = KubeClient.create(loadKubeConfig({ content: sandbox.kubeconfig }).kc, clientLog, { retry: { baseMs: 20, capMs: 200, maxAttempts: 8 } });
  const work = await sharedDir(); // stage pods (non-root) write the marker here
  dirs.push(work);
  const marker = `${work}/prep-failed-once`;
  const dir = await writeProject(
    batchProject('sturdy', 'prep >> train, api >> check', {
      // Fails its first attempt, succeeds the retry: attempts must count 2, not more.
      prep: {
        script: ['import os, sys', `m = ${JSON.stringify(marker)}`, 'if not os.path.exists(m):', '    open(m, "w").write("1")', '    print("first attempt fails", flush=True)', '    sys.exit(1)', 'print("prep done", flush=True)', ''].join('\n'),
        retries: 2,
      },
      train: { script: 'import time\nfor i in range(6):\n    print("epoch", i, flush=True)\n    time.sleep(1)\n' },
      api: { script: httpServer(5000, 'ok'), service: { port: 5000 } },
      check: { script: 'print("check done", flush=True)\n' },
    }),
  );
  dirs.push(dir);
  const { spec, plan } = await planDir(dir);
  const lines: string[] = [];
  const result = await deployProject({ client, logger: new RecordingLogger(), spec, plan, runId, timeoutMs: 120_000, onLogLine: (_s, l) => lines.push(l) });

  // What is in the namespace afterwards, read through a client of the same (faulty) server.
  const ns = plan.namespace;
  const jobs: Record<string, string[]> = {};
  const pods: Record<string, number> = {};
  for (const j of (await client.list<V1Job>('Job', ns)).items) {
    const stage = j.metadata?.labels?.stage ?? '?';
    (jobs[stage] ??= []).push(j.metadata?.name ?? '');
    pods[j.metadata?.name ?? ''] = (await client.list<V1Pod>('Pod', ns, { labelSelector: `job-name=${j.metadata?.name}` })).items.length;
  }
  const replicaSets = (await client.list<V1ReplicaSet>('ReplicaSet', ns, { labelSelector: 'stage=api' })).items.map((r) => r.metadata?.name ?? '');
  const lease = (await client.find<V1Lease>('Lease', ns, LOCK_NAME)) !== undefined;
  return { result, lines, clientLog, jobs, pods, replicaSets, lease };
}

/** The result without timings. */
const shape = (r: DeployResult) => ({ status: r.status, reason: r.reason, stages: r.stages.map(({ startedAt: _a, durationMs: _d, ...rest }) => rest) });

describe('a deployment through an unreliable API server', () => {
  it('ends as it does through a healthy one, with no duplicate Jobs or rollouts', { timeout: 240_000 }, async () => {
    const runId = newRunId();
    const [healthy, faulty] = await Promise.all([deployIn(undefined, runId), deployIn(FAULTS, runId)]);

    expect(healthy.result.status, JSON.stringify(healthy.result, null, 1)).toBe('success');
    expect(shape(faulty.result), JSON.stringify(faulty.result, null, 1)).toEqual(shape(healthy.result));
    expect(faulty.result.stages.map((s) => [s.stage, s.status, s.attempts])).toEqual([
      ['prep', 'succeeded', 2],
      ['train', 'succeeded', 1],
      ['api', 'succeeded', 1],
      ['check', 'succeeded', 1],
    ]);

    // Exactly one Job per batch stage (this run's), with as many pods as attempts; one ReplicaSet for the service.
    for (const o of [healthy, faulty]) {
      expect(o.jobs).toEqual({ prep: [`prep-${runId}`], train: [`train-${runId}`], check: [`check-${runId}`] });
      expect(o.pods).toEqual({ [`prep-${runId}`]: 2, [`train-${runId}`]: 1, [`check-${runId}`]: 1 });
      expect(o.replicaSets).toHaveLength(1);
      expect(o.lease).toBe(false);
    }

    // Every stage's output arrived in both (log follows resume after cuts).
    for (const line of ['[prep] prep done', '[train] epoch 5', '[check] check done']) {
      expect(healthy.lines).toContain(line);
      expect(faulty.lines).toContain(line);
    }

    // The faults did happen: retried 500s and 429s, and watches resumed after being cut.
    // (Seeded: every request draws the same random numbers, so how many faults hit depends only on how many requests,
    // which changes with the engine: at least one of each kind says the faults happened.)
    const debug = faulty.clientLog.messages('debug');
    const watches = (o: Outcome) => o.clientLog.messages('debug').filter((m) => m.startsWith('WATCH ')).length;
    expect(debug.filter((m) => m.startsWith('Retrying') && m.includes(': 500 ')).length).toBeGreaterThanOrEqual(1);
    expect(debug.filter((m) => m.startsWith('Retrying') && m.includes(': 429 ')).length).toBeGreaterThanOrEqual(1);
    expect(watches(faulty), 'watches cut every 2 s are re-established').toBeGreaterThan(watches(healthy) + 3);
    expect(healthy.clientLog.messages('debug').some((m) => m.startsWith('Retrying'))).toBe(false);
  });
});

describe('a pod watch that lags the Job watch', () => {
  it('still reads the log of a pod the watch never showed, and counts its attempt', { timeout: 120_000 }, async () => {
    // Pod watches answer after an hour (until the client closes them): only the Job watch tells the stage it ended.
    // Cert clients (the node agent) are spared so its pods still run.
    const faults: FaultOptions = { latencyMs: 3_600_000, pathPattern: /\/namespaces\/[^/]+\/pods$/, watchOnly: true, certClients: false };
    const sandbox = await startSandbox({ warn: () => {}, faults });
    sandboxes.push(sandbox);
    const client = KubeClient.create(loadKubeConfig({ content: sandbox.kubeconfig }).kc, new RecordingLogger());
    const dir = await writeProject(batchProject('lagging', 'quick', { quick: { script: 'print("quick done", flush=True)\n' } }));
    dirs.push(dir);
    const { spec, plan } = await planDir(dir);
    const lines: string[] = [];
    const result = await deployProject({ client, logger: new RecordingLogger(), spec, plan, runId: newRunId(), timeoutMs: 60_000, onLogLine: (_s, l) => lines.push(l) });
    expect(result.status, JSON.stringify(result, null, 1)).toBe('success');
    expect(result.stages.map((s) => [s.stage, s.status, s.attempts])).toEqual([['quick', 'succeeded', 1]]);
    expect(lines).toContain('[quick] quick done');
  });
});
