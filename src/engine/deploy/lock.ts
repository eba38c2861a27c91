/**
 * The deploy lock: one `coordination.k8s.io/v1` Lease per namespace (`bodywork-deploy`) serializes runs, so two
 * deployments (two workflow runs, a CI run and a laptop) never interleave their stages or prune each other's code.
 *
 * - Acquire: create the Lease, or take it over when it is free (released) or expired (`renewTime` +
 *   `leaseDurationSeconds` has passed: a holder that stopped renewing, e.g. a killed runner). Every write carries
 *   the resourceVersion it was based on (create: AlreadyExists; update: Conflict), so two runs can never both win.
 * - Wait: while another run holds it, WATCH the Lease (no polling) for a change of holder or its deletion, with one
 *   timer for the moment it would expire and one for `timeoutMs`; then fail naming the holder and since when.
 * - Renew: a timer renews `renewTime` every third of the lease duration while the run lasts; a Conflict that shows
 *   another holder means the lock was lost (`lost` aborts).
 * - Release: delete the Lease with a resourceVersion precondition (never someone else's), also after a failure or a
 *   cancellation; a waiting run sees the deletion at once.
 *
 * Expiry compares the holder's `renewTime` with this machine's clock: clocks skewed by more than the lease duration
 * could take over a live lease (the default duration, 60 s, leaves room for ordinary skew).
 *
 * This file acquires; what an acquiring run does about the Lease it read (`decideLock`) and the Lease's reads and
 * writes are lock-lease.ts; the held lock (renewal, loss, release) is lock-held.ts.
 */
import { hostname } from 'node:os';
import type { V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../logger.js';
import type { KubeClient } from '../kube/index.js';
import { LABEL_MANAGED_BY, LABEL_PART_OF, MANAGED_BY } from '../plan/index.js';
import { DEFAULT_LOCK_TIMEOUT_MS } from '../settings.js';
import { systemClock, type Clock } from '../clock.js';
import { HeldLock, type DeployLock } from './lock-held.js';
import { decideLock, DEFAULT_LEASE_DURATION_SECONDS, LockLease, newLeaseSpec } from './lock-lease.js';

export { DEFAULT_LEASE_DURATION_SECONDS, leaseExpiry } from './lock-lease.js';
export type { DeployLock } from './lock-held.js';

/** The Lease's name in every namespace. */
export const LOCK_NAME = 'bodywork-deploy';

/** `<runId> (<host>/<pid>)`: who holds the lock, in the Lease's holderIdentity and in messages. */
export function defaultHolder(runId: string): string {
  return `${runId} (${hostname()}/${process.pid})`;
}

/** Another run held the lock for longer than the run was willing to wait. */
export class LockTimeoutError extends Error {
  constructor(
    message: string,
    readonly holder: string,
    readonly since?: string,
  ) {
    super(message);
    this.name = 'LockTimeoutError';
  }
}

export interface LockOptions {
  client: KubeClient;
  logger: Logger;
  /** The namespace to lock (it must exist). */
  namespace: string;
  /** This run's identity (see `defaultHolder`); unique per run. */
  holder: string;
  /** The project deploying, for the Lease's `part-of` label. */
  project?: string;
  /** How long to wait for another holder (default 10 min). */
  timeoutMs?: number;
  /** Default 60 s. */
  leaseDurationSeconds?: number;
  /** Default a third of the lease duration. */
  renewIntervalMs?: number;
  /** Cancels waiting (the run's signal). Renewal and release do not depend on it. */
  signal?: AbortSignal;
  /** The Lease's name (default `bodywork-deploy`). */
  name?: string;
  /** Deadlines, expiry, the Lease's times and the renewal timer (default the system's; the watch keeps real time). */
  clock?: Clock;
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 1000)}s` : `${ms}ms`;
}

/**
 * Acquires the namespace's deploy lock, waiting (watching the Lease) while another live run holds it. Rejects with
 * `LockTimeoutError` after `timeoutMs`, with the signal's reason when it aborts, and with `KubeApiError` when the
 * API fails for good.
 */
export async function acquireLock(opts: LockOptions): Promise<DeployLock> {
  const { client, logger, namespace, holder, signal } = opts;
  const clock = opts.clock ?? systemClock;
  const durationSeconds = opts.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const deadline = clock.now() + timeoutMs;
  const labels = { [LABEL_MANAGED_BY]: MANAGED_BY, ...(opts.project !== undefined ? { [LABEL_PART_OF]: opts.project } : {}) };
  const lease = new LockLease(client, logger, namespace, opts.name ?? LOCK_NAME, labels);
  const renewIntervalMs = opts.renewIntervalMs ?? Math.max(100, Math.floor((durationSeconds * 1000) / 3));
  const held = (l: V1Lease, previousHolder?: string) => new HeldLock({ lease, logger, namespace, holder, durationSeconds, renewIntervalMs, clock }, l, previousHolder);
  const tryCreate = async (): Promise<V1Lease | undefined> => {
    const created = await lease.create(newLeaseSpec(holder, durationSeconds, clock.now()), signal);
    // A retried create that met AlreadyExists reads the Lease back: it may be another run's.
    return created?.spec?.holderIdentity === holder ? created : undefined;
  };

  let announced = false;
  // A run deletes the Lease when it ends, so it is usually absent: create it first, and read it only when that fails.
  const first = await tryCreate();
  if (first) return held(first);
  for (;;) {
    signal?.throwIfAborted();
    const current = await lease.find(signal);
    const now = clock.now();
    const decision = decideLock(current, { holder, durationSeconds, now });
    if (decision.kind === 'create') {
      const created = await tryCreate();
      if (created) return held(created);
    } else if (decision.kind === 'take') {
      const taken = await lease.replace(decision.spec, current?.metadata?.resourceVersion, signal);
      if (!taken) continue;
      const over = decision.takenOver;
      if (over) logger.warn(`took over the deploy lock in namespace=${namespace} from ${over.holder}: it stopped renewing it at ${over.lastRenewal ?? 'an unknown time'}`);
      return held(taken, over?.holder);
    } else {
      const { holder: h, since } = decision;
      if (now >= deadline) {
        throw new LockTimeoutError(
          `namespace=${namespace} is locked by another deployment: ${h}${since ? ` holds it since ${since}` : ''}; gave up after waiting ${seconds(timeoutMs)} ` +
            `(it expires if not renewed for ${decision.durationSeconds}s; kubectl -n ${namespace} get lease ${lease.name})`,
          h,
          since,
        );
      }
      if (!announced) {
        logger.info(`waiting for the deploy lock in namespace=${namespace}: held by ${h}${since ? ` since ${since}` : ''} (up to ${seconds(deadline - now)})`);
        announced = true;
      }
      // Wake at the holder's change, at its expiry (+ a margin, so it has passed), or at the deadline.
      await lease.waitForChange(h, Math.min(deadline - now, decision.expiry + 50 - now), signal);
    }
  }
}
