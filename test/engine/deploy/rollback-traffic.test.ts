/**
 * The rollback promise end to end: a new version whose pods never become ready is rolled back to the previous one,
 * and a client hammering the Service meanwhile sees no failed request. Real Python HTTP servers in the sandbox (a
 * network namespace and IP per pod where the host allows it), the planned probes, the Service reached through the
 * sandbox's host URL (a proxy that forwards only to ready endpoints).
 */
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { runServiceStage } from '../../../src/engine/deploy/service-stage.js';
import type { DeployPlan, PlannedServiceStage } from '../../../src/engine/plan/index.js';
import { watchObjects } from '../../../src/engine/kube/index.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { batchProject, type DeploySandbox, httpServer, newRunId, planDir, useDeploySandbox, writeProject } from './helpers.js';
import { applySetup, deployContext } from './support/service-sandbox.js';

const s = useDeploySandbox();
const dirs = s.dirs;

const PORT = 5000;
const NAME = 'rollback-traffic';

/** Plans a one-service project (2 replicas) whose `api` stage runs `script`. */
async function planVersion(script: string, runId: string): Promise<{ plan: DeployPlan; stage: PlannedServiceStage; spec: Awaited<ReturnType<typeof planDir>>['spec'] }> {
  const dir = await writeProject(batchProject(NAME, 'api', { api: { script, service: { port: PORT, replicas: 2, maxStartupSeconds: 20 } } }));
  dirs.push(dir);
  const { spec, plan } = await planDir(dir, { runId, commitSha: 'abcdef1234567' });
  const stage = plan.steps[0].stages[0];
  if (stage.type !== 'service') throw new Error('expected a service stage');
  return { spec, plan, stage };
}

interface Sample {
  t: number;
  status?: number;
  body?: string;
  error?: string;
}

/**
 * How long one request may take before it counts as failed. Only a hang should fail: on a loaded 2-core machine a
 * request once took over 5 s (the old bound) while every answer was right, and a slow answer is not a failed one.
 */
const REQUEST_TIMEOUT_MS = 30_000;

/** One request to the Service, on a new connection: each is routed afresh by the Service proxy (no keep-alive). */
async function request(url: string): Promise<Sample> {
  const t = Date.now();
  try {
    const rsp = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), headers: { connection: 'close' } });
    return { t, status: rsp.status, body: await rsp.text() };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    return { t, error: `${err.message}${err.cause ? ` (${err.cause.code ?? err.cause.message})` : ''}` };
  }
}

/**
 * Requests `url` one at a time, `everyMs` apart, until stopped (bounded by `maxMs`). `first` resolves with the first
 * sample; `stop` lets one more request start after it was called, so the samples always reach past that moment. No
 * assertion counts samples: how many fit in a rollout depends on the machine's speed.
 */
function requestLoop(url: string, o: { everyMs: number; maxMs: number }) {
  const samples: Sample[] = [];
  let stopAt: number | undefined;
  let gotFirst!: (s: Sample) => void;
  const first = new Promise<Sample>((r) => (gotFirst = r));
  const t0 = Date.now();
  const done = (async () => {
    while (Date.now() - t0 < o.maxMs) {
      const sample = await request(url);
      samples.push(sample);
      if (samples.length === 1) gotFirst(sample);
      if (stopAt !== undefined && sample.t >= stopAt) return;
      await new Promise((r) => setTimeout(r, Math.max(0, o.everyMs - (Date.now() - sample.t))));
    }
  })();
  return {
    samples,
    first,
    stop: async () => {
      stopAt ??= Date.now();
      await done;
    },
  };
}

/** Calls `onCrash` once, when a pod of run `runId` in `namespace` first reports a terminated or crash-looping container. */
async function onFirstCrash(s: DeploySandbox, namespace: string, runId: string, onCrash: () => void): Promise<AbortController> {
  const ac = new AbortController();
  let fired = false;
  let synced!: () => void;
  const ready = new Promise<void>((r) => (synced = r));
  void watchObjects<V1Pod>({
    client: s.client,
    path: `/api/v1/namespaces/${namespace}/pods`,
    signal: ac.signal,
    onSync: () => synced(),
    onEvent: (e) => {
      if (fired || e.object.metadata?.annotations?.['bodywork.dev/run-id'] !== runId) return;
      const crashed = (e.object.status?.containerStatuses ?? []).some(
        (c) => c.state?.terminated || c.lastState?.terminated || c.state?.waiting?.reason === 'CrashLoopBackOff',
      );
      if (crashed) {
        fired = true;
        onCrash();
      }
    },
  }).catch(() => {});
  await ready;
  return ac;
}

describe('a service that never becomes ready', () => {
  it('is rolled back to the previous version with no failed request to the Service meanwhile', async () => {
    const v1Run = newRunId();
    const v1 = await planVersion(httpServer(PORT, 'v1'), v1Run);
    await applySetup(s.client, v1.plan);
    const log1 = new RecordingLogger();
    const r1 = await runServiceStage(deployContext(s.client, log1, v1.spec, v1.plan, v1Run), v1.stage, 1);
    expect(r1.status, JSON.stringify(r1)).toBe('succeeded');
    const namespace = v1.plan.namespace;
    const before = await s.client.get<V1Deployment>('Deployment', namespace, 'api');
    const v1Template = before.spec?.template;
    expect(v1Template?.metadata?.annotations?.['bodywork.dev/run-id']).toBe(v1Run);

    const url = await s.sandbox.serviceUrl('api', { namespace });
    expect(url).toBeDefined();
    const loop = requestLoop(url!, { everyMs: 20, maxMs: 120_000 });
    let stopped = false;
    const v2Run = newRunId();
    // Requests sent the moment a broken v2 pod exists: "during the rollout" by construction, not by a clock.
    const duringCrash: Promise<Sample[]>[] = [];
    const watch = await onFirstCrash(s, namespace, v2Run, () => duringCrash.push(Promise.all([request(url!), request(url!), request(url!)])));
    try {
      const firstSample = await loop.first;
      // v2: the server crashes before it ever listens (a missing model): its pods never become ready.
      const v2 = await planVersion(['import sys', 'print("no model found", flush=True)', 'sys.exit(3)', ''].join('\n'), v2Run);
      await applySetup(s.client, v2.plan);
      const rolloutStart = Date.now();
      const r2 = await runServiceStage(deployContext(s.client, new RecordingLogger(), v2.spec, v2.plan, v2Run), v2.stage, 1);
      await loop.stop();
      stopped = true;

      expect(r2.status, JSON.stringify(r2)).toBe('rolled-back');
      // It failed for the right reason: v2's pods were created and crashed (the old ones kept serving).
      expect(r2.reason).toMatch(/CrashLoopBackOff: .*exit code 3 \(Error\); rolled back to revision 1$/);
      expect(r2.logTail?.some((l) => l.endsWith(': no model found'))).toBe(true);
      const after = await s.client.get<V1Deployment>('Deployment', namespace, 'api');
      expect(after.spec?.template).toEqual(v1Template);
      expect(after.status?.readyReplicas).toBe(2);

      // Every request succeeded with v1: before the rollout, while v2 crashed, and after the rollback.
      expect(duringCrash).toHaveLength(1);
      const samples = [...loop.samples, ...(await duringCrash[0])];
      const failed = samples.filter((x) => x.error !== undefined || x.status !== 200 || x.body !== 'v1');
      expect(failed, JSON.stringify(failed.slice(0, 10))).toEqual([]);
      expect(firstSample.t).toBeLessThanOrEqual(rolloutStart);
      expect(loop.samples.at(-1)!.t).toBeGreaterThanOrEqual(rolloutStart);
    } finally {
      watch.abort();
      if (!stopped) await loop.stop();
    }
  });
});
