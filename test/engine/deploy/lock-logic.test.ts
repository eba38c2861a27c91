/**
 * The deploy lock's logic without a cluster: the decision a run takes from the Lease it read (decideLock), and a held
 * lock's renewal, loss and release against a stand-in Lease and a clock moved by hand (lock.test.ts runs it for real).
 */
import type { V1Lease, V1LeaseSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { HeldLock } from '../../../src/engine/deploy/lock-held.js';
import { FakeClock } from '../../support/fake-clock.js';
import { decideLock, microTime, type LeaseAccess } from '../../../src/engine/deploy/lock-lease.js';
import { KubeApiError } from '../../../src/engine/kube/index.js';
import { RecordingLogger } from '../../../src/engine/logger.js';

const T0 = Date.parse('2026-01-02T03:04:05.000Z');
const lease = (spec: V1LeaseSpec, resourceVersion = '7'): V1Lease => ({ metadata: { name: 'bodywork-deploy', resourceVersion }, spec });
const view = { holder: 'me (h/1)', durationSeconds: 60, now: T0 };

describe('decideLock', () => {
  it('creates the Lease when there is none', () => {
    expect(decideLock(undefined, view)).toEqual({ kind: 'create' });
  });

  it('takes a released Lease without counting a transition, and renews its own keeping its acquireTime', () => {
    const released = decideLock(lease({ holderIdentity: '', leaseTransitions: 2, renewTime: microTime(T0) }), view);
    expect(released).toEqual({ kind: 'take', spec: { holderIdentity: 'me (h/1)', leaseDurationSeconds: 60, acquireTime: microTime(T0), renewTime: microTime(T0), leaseTransitions: 2 } });
    const acquired = microTime(T0 - 5_000);
    const own = decideLock(lease({ holderIdentity: 'me (h/1)', acquireTime: acquired, renewTime: microTime(T0 - 1_000), leaseTransitions: 1 }), view);
    expect(own).toMatchObject({ kind: 'take', spec: { acquireTime: acquired, renewTime: microTime(T0), leaseTransitions: 1 } });
    expect(own).not.toHaveProperty('takenOver');
  });

  it("waits for another run's live Lease until it would expire, with its holder, since when and its duration", () => {
    const held = lease({ holderIdentity: 'other (h/2)', acquireTime: microTime(T0 - 30_000), renewTime: microTime(T0 - 10_000), leaseDurationSeconds: 15 });
    expect(decideLock(held, view)).toEqual({ kind: 'wait', holder: 'other (h/2)', since: new Date(T0 - 30_000).toISOString(), expiry: T0 + 5_000, durationSeconds: 15 });
  });

  it('takes over an expired Lease, counting the transition and naming the holder and its last renewal', () => {
    const stale = lease({ holderIdentity: 'gone (h/3)', acquireTime: microTime(T0 - 600_000), renewTime: microTime(T0 - 60_000), leaseTransitions: 4 });
    expect(decideLock(stale, view)).toEqual({
      kind: 'take',
      spec: { holderIdentity: 'me (h/1)', leaseDurationSeconds: 60, acquireTime: microTime(T0), renewTime: microTime(T0), leaseTransitions: 5 },
      takenOver: { holder: 'gone (h/3)', lastRenewal: new Date(T0 - 60_000).toISOString() },
    });
  });
});

/** Moves `clock` on by `ms` and lets what its timers started finish (the Lease answers at once). */
async function advance(clock: FakeClock, ms: number): Promise<void> {
  clock.advance(ms);
  await new Promise((resolve) => setImmediate(resolve));
}

/** One Lease with resourceVersion preconditions, as the API server keeps it. */
class StoredLease implements LeaseAccess {
  stored: V1Lease | undefined;
  version = 7;
  deletes: (string | undefined)[] = [];
  constructor(spec: V1LeaseSpec) {
    this.stored = lease(spec, String(this.version));
  }
  async find(): Promise<V1Lease | undefined> {
    return structuredClone(this.stored);
  }
  async replace(spec: V1LeaseSpec, resourceVersion: string | undefined): Promise<V1Lease | undefined> {
    if (this.stored?.metadata?.resourceVersion !== resourceVersion) return undefined;
    return this.write(spec);
  }
  async delete(resourceVersion: string | undefined): Promise<boolean> {
    this.deletes.push(resourceVersion);
    if (this.stored === undefined) return false;
    if (this.stored.metadata?.resourceVersion !== resourceVersion) throw new KubeApiError({ verb: 'delete', kind: 'Lease', statusCode: 409, reason: 'Conflict', causes: [], retryable: false, delivery: 'yes' });
    this.stored = undefined;
    return true;
  }
  /** Someone's write (ours or another run's): a new version. */
  write(spec: V1LeaseSpec): V1Lease {
    this.stored = lease(spec, String(++this.version));
    return structuredClone(this.stored);
  }
}

function hold(spec: V1LeaseSpec) {
  const store = new StoredLease(spec);
  const clock = new FakeClock();
  clock.t = T0;
  const logger = new RecordingLogger();
  const lock = new HeldLock({ lease: store, logger, namespace: 'ns', holder: 'me (h/1)', durationSeconds: 60, renewIntervalMs: 20_000, clock }, store.stored!);
  return { store, clock, logger, lock };
}

describe('HeldLock', () => {
  const mine: V1LeaseSpec = { holderIdentity: 'me (h/1)', leaseDurationSeconds: 60, acquireTime: microTime(T0), renewTime: microTime(T0) };

  it("renews every interval at the clock's time, keeping the acquireTime, and releases the version it holds", async () => {
    const { store, clock, lock } = hold(mine);
    await advance(clock, 19_999);
    expect(store.version).toBe(7);
    await advance(clock, 1);
    await advance(clock, 20_000);
    expect(store.stored?.spec).toEqual({ ...mine, renewTime: microTime(T0 + 40_000) });
    expect(store.version).toBe(9);
    await lock.release();
    await lock.release();
    expect(store.deletes).toEqual(['9']);
    expect(store.stored).toBeUndefined();
    expect(clock.pending).toBe(0);
  });

  it('is lost when a renewal finds another holder: it stops renewing and its release leaves the Lease alone', async () => {
    const { store, clock, logger, lock } = hold(mine);
    store.write({ holderIdentity: 'intruder (x/3)' });
    await advance(clock, 20_000);
    expect(lock.lost.aborted).toBe(true);
    expect(String(lock.lost.reason)).toBe('Error: lost the deploy lock in namespace=ns: intruder (x/3) holds it now');
    expect(logger.messages('error')).toEqual(['lost the deploy lock in namespace=ns: intruder (x/3) holds it now']);
    expect(clock.pending).toBe(0);
    await lock.release();
    expect(store.deletes).toEqual([]);
    expect(store.stored?.spec?.holderIdentity).toBe('intruder (x/3)');
  });

  it('after a conflicting write that kept it ours (a retried write that had landed), renews and releases the latest version', async () => {
    const { store, clock, lock } = hold(mine);
    store.write({ ...mine, renewTime: microTime(T0 + 1) });
    await advance(clock, 20_000);
    expect(lock.lost.aborted).toBe(false);
    expect(store.version).toBe(9);
    store.write({ ...mine, renewTime: microTime(T0 + 2) });
    await lock.release();
    // The first delete met the write above (409); the Lease read again was still ours.
    expect(store.deletes).toEqual(['9', '10']);
    expect(store.stored).toBeUndefined();
  });
});
