/** The deploy lock: a Lease per namespace serializes runs; waiting watches it; stale holders are taken over. */
import type { V1Job, V1Lease, V1Pod, V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { deployProject } from '../../../src/engine/deploy/deploy.js';
import { LOCK_NAME, acquireLock, LockTimeoutError, type DeployLock } from '../../../src/engine/deploy/lock.js';
import type { StageResult } from '../../../src/engine/deploy/types.js';
import { watchObjects, type Manifest } from '../../../src/engine/kube/index.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { batchProject, newRunId, planDir, useDeploySandbox, writeProject } from './helpers.js';

const s = useDeploySandbox();
const dirs = s.dirs;

async function plan(name: string, script = 'import time\nprint("start", flush=True)\ntime.sleep(1)\nprint("end", flush=True)\n') {
  const dir = await writeProject(batchProject(name, 'one >> two', { one: { script }, two: { script } }));
  dirs.push(dir);
  return planDir(dir);
}

async function namespace(name: string): Promise<string> {
  await s.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

const window = (stages: StageResult[]) => {
  const start = Math.min(...stages.map((x) => Date.parse(x.startedAt!)));
  const end = Math.max(...stages.map((x) => Date.parse(x.startedAt!) + x.durationMs!));
  return { start, end };
};

describe('acquireLock', () => {
  it('lets exactly one of many concurrent runs hold the lock at a time, handing over on release (watch, not expiry)', async () => {
    const ns = await namespace('lock-race');
    let holding = 0;
    let maxHolding = 0;
    const order: string[] = [];
    const contender = async (i: number) => {
      const lock = await acquireLock({ client: s.client, logger: new RecordingLogger(), namespace: ns, holder: `run-${i} (test/1)`, timeoutMs: 30_000 });
      holding++;
      maxHolding = Math.max(maxHolding, holding);
      order.push(lock.holder);
      // Hold across several API round-trips (longer than a contender's get + write), so overlapping holders would show.
      for (let k = 0; k < 10; k++) {
        const lease = await s.client.get<V1Lease>('Lease', ns, LOCK_NAME);
        expect(lease.spec?.holderIdentity).toBe(`run-${i} (test/1)`);
      }
      holding--;
      await lock.release();
    };
    await Promise.all([0, 1, 2, 3, 4].map(contender));
    expect(maxHolding).toBe(1);
    expect(order.sort()).toEqual([0, 1, 2, 3, 4].map((i) => `run-${i} (test/1)`));
    // The lease lasts 60 s: four hand-overs by expiry would outlast the test's 180 s timeout, so finishing at all
    // means they came from watching the release.
    expect(await s.client.exists('Lease', ns, LOCK_NAME)).toBe(false);
  });

  it('fails after the timeout naming the holder and since when, and renews while held', async () => {
    const ns = await namespace('lock-timeout');
    const holder = await acquireLock({ client: s.client, logger: new RecordingLogger(), namespace: ns, holder: 'run-a (host-a/42)', renewIntervalMs: 200 });
    try {
      const first = await s.client.get<V1Lease>('Lease', ns, LOCK_NAME);
      const logger = new RecordingLogger();
      const err = await acquireLock({ client: s.client, logger, namespace: ns, holder: 'run-b (host-b/7)', timeoutMs: 800 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(LockTimeoutError);
      expect((err as LockTimeoutError).message).toMatch(/^namespace=lock-timeout is locked by another deployment: run-a \(host-a\/42\) holds it since \d{4}-\d\d-\d\dT[\d:.]+Z; gave up after waiting/);
      expect((err as LockTimeoutError).holder).toBe('run-a (host-a/42)');
      expect(logger.messages('info')[0]).toMatch(/^waiting for the deploy lock in namespace=lock-timeout: held by run-a \(host-a\/42\)/);
      // Renewed meanwhile (every 200 ms): a later renewTime, the same holder and acquireTime.
      const later = await s.client.get<V1Lease>('Lease', ns, LOCK_NAME);
      expect(later.spec?.holderIdentity).toBe('run-a (host-a/42)');
      expect(Date.parse(String(later.spec?.renewTime))).toBeGreaterThan(Date.parse(String(first.spec?.renewTime)));
      expect(String(later.spec?.acquireTime)).toBe(String(first.spec?.acquireTime));
    } finally {
      await holder.release();
    }
    expect(await s.client.exists('Lease', ns, LOCK_NAME)).toBe(false);
  });

  it('takes over a stale lease (holder gone, renewTime old) and notices when its own lease is taken', async () => {
    const ns = await namespace('lock-stale');
    const old = new Date(Date.now() - 10 * 60_000).toISOString().replace('Z', '000Z');
    await s.client.create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: LOCK_NAME, namespace: ns },
      spec: { holderIdentity: 'crashed (gone/1)', leaseDurationSeconds: 60, acquireTime: old, renewTime: old, leaseTransitions: 0 },
    } as Manifest);
    const logger = new RecordingLogger();
    const lock: DeployLock = await acquireLock({ client: s.client, logger, namespace: ns, holder: 'new (here/2)', timeoutMs: 2_000, renewIntervalMs: 100 });
    expect(logger.messages('warn')).toEqual([expect.stringMatching(/^took over the deploy lock in namespace=lock-stale from crashed \(gone\/1\): it stopped renewing it at /)]);
    const lease = await s.client.get<V1Lease>('Lease', ns, LOCK_NAME);
    expect(lease.spec).toMatchObject({ holderIdentity: 'new (here/2)', leaseTransitions: 1 });

    // Someone else overwrites the lease: the next renewal conflicts and reports the lock lost.
    await s.client.apply({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: LOCK_NAME, namespace: ns }, spec: { holderIdentity: 'intruder (x/3)' } } as Manifest, {
      fieldManager: 'intruder',
    });
    await new Promise<void>((resolve) => (lock.lost.aborted ? resolve() : lock.lost.addEventListener('abort', () => resolve(), { once: true })));
    expect(String(lock.lost.reason)).toContain('intruder (x/3) holds it now');
    await lock.release();
    // Not ours any more: release leaves it alone.
    expect((await s.client.get<V1Lease>('Lease', ns, LOCK_NAME)).spec?.holderIdentity).toBe('intruder (x/3)');
  });
});

describe('deployProject under the lock', () => {
  it('serializes two concurrent runs on one namespace: the second waits, then succeeds', async () => {
    const { spec, plan: p } = await plan('locked');
    const loggers = [new RecordingLogger(), new RecordingLogger()];
    const [a, b] = await Promise.all(loggers.map((logger) => deployProject({ client: s.client, logger, spec, plan: p, runId: newRunId(), timeoutMs: 90_000, lockTimeoutMs: 60_000 })));
    expect([a.status, b.status], JSON.stringify([a, b], null, 1)).toEqual(['success', 'success']);
    const [wa, wb] = [window(a.stages), window(b.stages)];
    // One run's stages all ran before the other's started.
    expect(wa.end <= wb.start || wb.end <= wa.start, JSON.stringify({ wa, wb })).toBe(true);
    const waited = loggers.filter((l) => l.messages('info').some((m) => m.startsWith('waiting for the deploy lock in namespace=locked: held by ')));
    expect(waited).toHaveLength(1);
    expect(await s.client.exists('Lease', 'locked', LOCK_NAME)).toBe(false);
  });

  it('fails a second run with a short lockTimeoutMs naming the holder, running nothing', async () => {
    const { spec, plan: p } = await plan('busy');
    await namespace('busy');
    const held = await acquireLock({ client: s.client, logger: new RecordingLogger(), namespace: 'busy', holder: 'gha-123 (runner-7/4242)' });
    try {
      const r = await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan: p, runId: newRunId(), timeoutMs: 30_000, lockTimeoutMs: 500 });
      expect(r.status).toBe('failure');
      expect(r.reason).toMatch(/^namespace=busy is locked by another deployment: gha-123 \(runner-7\/4242\) holds it since \S+Z; gave up after waiting/);
      expect(r.stages.map((x) => x.status)).toEqual(['skipped', 'skipped']);
      expect((await s.client.list<V1Job>('Job', 'busy')).items).toEqual([]);
      // The waiting run did not touch the holder's lease.
      expect((await s.client.get<V1Lease>('Lease', 'busy', LOCK_NAME)).spec?.holderIdentity).toBe('gha-123 (runner-7/4242)');
    } finally {
      await held.release();
    }
  });

  it('releases the lock after a failed run and after a cancelled one; a run cancelled while waiting leaves the holder alone', async () => {
    const failing = await plan('release-fail', 'import sys\nsys.exit(3)\n');
    const failed = await deployProject({ client: s.client, logger: new RecordingLogger(), spec: failing.spec, plan: failing.plan, runId: newRunId(), timeoutMs: 30_000 });
    expect(failed.status).toBe('failure');
    expect(failed.stages[0].status).toBe('failed');
    expect(await s.client.exists('Lease', 'release-fail', LOCK_NAME)).toBe(false);

    // Cancelled while its first stage runs: the lock goes with the run.
    const slow = await plan('release-cancel', 'import time\nprint("started", flush=True)\ntime.sleep(60)\n');
    const abort = new AbortController();
    const cancelled = await deployProject({
      client: s.client,
      logger: new RecordingLogger(),
      spec: slow.spec,
      plan: slow.plan,
      runId: newRunId(),
      timeoutMs: 60_000,
      signal: abort.signal,
      onLogLine: (_stage, line) => {
        if (line.endsWith('started')) abort.abort();
      },
    });
    expect(cancelled.stages.map((x) => x.status)).toEqual(['cancelled', 'skipped']);
    expect(await s.client.exists('Lease', 'release-cancel', LOCK_NAME)).toBe(false);

    // Cancelled while waiting for another run's lock: fails at once, the holder keeps it.
    const held = await acquireLock({ client: s.client, logger: new RecordingLogger(), namespace: 'release-cancel', holder: 'holder (h/1)' });
    try {
      const logger = new RecordingLogger();
      const waiting = new AbortController();
      const pending = deployProject({ client: s.client, logger, spec: slow.spec, plan: slow.plan, runId: newRunId(), timeoutMs: 60_000, lockTimeoutMs: 60_000, signal: waiting.signal });
      // Cancel once it is waiting (it says so before it starts watching).
      await new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error('the run never waited for the lock')), 10_000);
        const orig = logger.info.bind(logger);
        logger.info = (m: string) => {
          orig(m);
          if (m.startsWith('waiting for the deploy lock')) {
            clearTimeout(deadline);
            resolve();
          }
        };
      });
      waiting.abort();
      const r = await pending;
      expect(r.status).toBe('failure');
      expect(r.reason).toBe('the deployment was cancelled');
      expect((await s.client.get<V1Lease>('Lease', 'release-cancel', LOCK_NAME)).spec?.holderIdentity).toBe('holder (h/1)');
    } finally {
      await held.release();
    }
  });

  it('takes over a stale lease left by a run that died, and releases it at the end', async () => {
    const { spec, plan: p } = await plan('stale', 'print("ok")\n');
    await namespace('stale');
    const old = new Date(Date.now() - 5 * 60_000).toISOString().replace('Z', '000Z');
    await s.client.create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: LOCK_NAME, namespace: 'stale' },
      spec: { holderIdentity: 'dead-run (old-host/99)', leaseDurationSeconds: 60, acquireTime: old, renewTime: old },
    } as Manifest);
    const logger = new RecordingLogger();
    const r = await deployProject({ client: s.client, logger, spec, plan: p, runId: newRunId(), timeoutMs: 60_000, lockTimeoutMs: 5_000 });
    expect(r.status, JSON.stringify(r, null, 1)).toBe('success');
    expect(logger.messages('warn')).toContainEqual(expect.stringContaining('from dead-run (old-host/99)'));
    expect(await s.client.exists('Lease', 'stale', LOCK_NAME)).toBe(false);
  });

  it('applies the given secrets only once it holds the lock: a waiting run changes nothing', async () => {
    const { spec, plan: p } = await plan('secret-order', 'print("ok")\n');
    await namespace('secret-order');
    await s.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'secret-order' }, data: { PASSWORD: Buffer.from('in-use').toString('base64') } } as Manifest);
    const holder = await acquireLock({ client: s.client, logger: new RecordingLogger(), namespace: 'secret-order', holder: 'running (ci/1)' });
    try {
      const r = await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan: p, runId: newRunId(), lockTimeoutMs: 500, secrets: [{ name: 'db', data: { PASSWORD: 'queued' } }] });
      expect(r.status).toBe('failure');
      expect(r.reason).toMatch(/is locked by another deployment: running \(ci\/1\)/);
      const secret = await s.client.get<V1Secret>('Secret', 'secret-order', 'db');
      expect(Buffer.from(secret.data?.PASSWORD ?? '', 'base64').toString()).toBe('in-use');
    } finally {
      await holder.release();
    }
    const r = await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan: p, runId: newRunId(), timeoutMs: 60_000, secrets: [{ name: 'db', data: { PASSWORD: 'queued' } }] });
    expect(r.status, JSON.stringify(r, null, 1)).toBe('success');
    const secret = await s.client.get<V1Secret>('Secret', 'secret-order', 'db');
    expect(Buffer.from(secret.data?.PASSWORD ?? '', 'base64').toString()).toBe('queued');
  });

  it("after taking over a stale lease, deletes the dead run's running Job and waits for its pod before starting the stage again", async () => {
    const { spec, plan: p } = await plan('stale-job', 'import time\nprint("started", flush=True)\ntime.sleep(600)\n');
    const ns = await namespace('stale-job');
    // The dead run's Job of stage `one`, still running.
    const { plan: deadPlan } = await planDir(dirs.at(-1)!, { runId: 'dead-1' });
    const deadJob = deadPlan.steps[0].stages[0];
    if (deadJob.type !== 'batch') throw new Error('stage one is a batch stage');
    for (const o of deadPlan.setup.filter((x) => x.kind !== 'Namespace')) await s.client.apply(o as Manifest);
    await s.client.create(deadJob.job as unknown as Manifest);
    const deadName = deadJob.job.metadata?.name ?? '';
    const old = new Date(Date.now() - 5 * 60_000).toISOString().replace('Z', '000Z');
    await s.client.create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: LOCK_NAME, namespace: ns },
      spec: { holderIdentity: 'dead-run (old-host/99)', leaseDurationSeconds: 60, acquireTime: old, renewTime: old },
    } as Manifest);
    // Every pod event in order: the dead Job's pod must be gone before a pod of the new run appears.
    const events: string[] = [];
    const watching = new AbortController();
    const watch = watchObjects<V1Pod>({
      client: s.client,
      path: `/api/v1/namespaces/${ns}/pods`,
      signal: watching.signal,
      onEvent: (e) => events.push(`${e.type} ${e.object.metadata?.labels?.['job-name'] === deadName ? 'dead' : 'new'} ${e.object.status?.phase ?? ''}`),
    });
    // The dead run's pod is running before the new run starts.
    await new Promise<void>((resolve) => {
      const check = () => (events.some((e) => e.startsWith('MODIFIED dead Running')) ? resolve() : setTimeout(check, 50));
      check();
    });
    const logger = new RecordingLogger();
    const deploy = deployProject({ client: s.client, logger, spec, plan: p, runId: newRunId(), timeoutMs: 90_000, lockTimeoutMs: 60_000 });
    // The new run's stage sleeps too: cancel it once its pod runs (what matters is the order of the two pods).
    await new Promise<void>((resolve) => {
      const check = () => (events.some((e) => e.startsWith('MODIFIED new Running')) ? resolve() : setTimeout(check, 50));
      check();
    });
    watching.abort();
    await watch;
    const firstNew = events.findIndex((e) => e.includes(' new '));
    const deadGone = events.findIndex((e) => e.startsWith('DELETED dead'));
    expect(deadGone, events.join('\n')).toBeGreaterThanOrEqual(0);
    expect(deadGone, events.join('\n')).toBeLessThan(firstNew);
    expect(await s.client.exists('Job', ns, deadName)).toBe(false);
    expect(logger.messages('warn')).toContainEqual(expect.stringMatching(/^stopping 1 Job still running from dead-run \(old-host\/99\): /));
    // End the new run: its lease is released when it stops.
    await s.client.delete('Job', ns, (await s.client.list<V1Job>('Job', ns)).items[0]?.metadata?.name ?? '', { propagationPolicy: 'Background' });
    const r = await deploy;
    expect(r.stages[0].stage).toBe('one');
  });
});
