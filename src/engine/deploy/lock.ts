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
 */
import { hostname } from 'node:os';
import type { V1Lease, V1MicroTime } from '@kubernetes/client-node';
import { isKubeStatus, WaitTimeoutError, waitForObject, type KubeClient, type Manifest } from '../kube/index.js';
import type { Logger } from '../logger.js';
import { LABEL_MANAGED_BY, LABEL_PART_OF, MANAGED_BY } from '../plan/index.js';
import { errorMessage } from '../errors.js';
import { DEFAULT_LOCK_TIMEOUT_MS } from '../settings.js';

/** The Lease's name in every namespace. */
export const LOCK_NAME = 'bodywork-deploy';
/** A holder that has not renewed for this long has gone. */
export const DEFAULT_LEASE_DURATION_SECONDS = 60;

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
}

export interface DeployLock {
  readonly namespace: string;
  readonly holder: string;
  /** Aborted (with an Error) when the lock was lost: another run took the Lease over. */
  readonly lost: AbortSignal;
  /** Set when the lock was taken over from a holder that stopped renewing it: that holder's identity. */
  readonly previousHolder?: string;
  /** Stops renewing and deletes the Lease if it is still ours. Never throws; safe to call twice. */
  release(): Promise<void>;
}

/** MicroTime as the API server parses it (RFC 3339 with 6 fractional digits). */
function microTime(ms: number): V1MicroTime {
  return new Date(ms).toISOString().replace(/Z$/, '000Z') as unknown as V1MicroTime;
}

/** A MicroTime from the wire (client-node leaves it a string) or a Date, in ms; undefined when absent. */
function timeOf(t: unknown): number | undefined {
  if (t instanceof Date) return t.getTime();
  if (typeof t === 'string') {
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

function isoOf(t: unknown): string | undefined {
  const ms = timeOf(t);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** When the lease stops being valid (ms), from its last renewal (or acquisition) and duration. */
export function leaseExpiry(lease: V1Lease, defaultDurationSeconds = DEFAULT_LEASE_DURATION_SECONDS): number {
  const last = timeOf(lease.spec?.renewTime) ?? timeOf(lease.spec?.acquireTime) ?? 0;
  return last + (lease.spec?.leaseDurationSeconds ?? defaultDurationSeconds) * 1000;
}

function message(e: unknown): string {
  return errorMessage(e);
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
  const name = opts.name ?? LOCK_NAME;
  const duration = opts.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const labels = { [LABEL_MANAGED_BY]: MANAGED_BY, ...(opts.project !== undefined ? { [LABEL_PART_OF]: opts.project } : {}) };

  const body = (spec: V1Lease['spec'], resourceVersion?: string): V1Lease => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, labels, ...(resourceVersion !== undefined ? { resourceVersion } : {}) },
    spec,
  });

  /** PUT based on `resourceVersion`; undefined when someone else wrote first (Conflict) or it is gone. */
  const replace = async (lease: V1Lease, callSignal?: AbortSignal): Promise<V1Lease | undefined> => {
    try {
      return await client.replace<V1Lease>(lease as Manifest, { signal: callSignal });
    } catch (e) {
      if (isKubeStatus(e, 409) || isKubeStatus(e, 404)) return undefined;
      throw e;
    }
  };

  const tryCreate = async (): Promise<V1Lease | undefined> => {
    const now = Date.now();
    try {
      const created = await client.create<V1Lease>(
        body({ holderIdentity: holder, leaseDurationSeconds: duration, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 }) as unknown as Manifest,
        { signal },
      );
      // A retried create that met AlreadyExists reads the Lease back: it may be another run's.
      return created.spec?.holderIdentity === holder ? created : undefined;
    } catch (e) {
      if (isKubeStatus(e, 409)) return undefined;
      throw e;
    }
  };

  /** Waits until the holder changes or the Lease goes, or until `ms` pass (expiry or deadline). */
  const waitForChange = async (current: string, ms: number): Promise<void> => {
    try {
      await waitForObject<V1Lease, true>(
        { client, path: `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`, name, logger },
        (o) => (o === undefined || (o.spec?.holderIdentity ?? '') !== current ? true : undefined),
        { timeoutMs: Math.max(1, ms), signal, description: `the deploy lock in namespace=${namespace} to be released` },
      );
    } catch (e) {
      if (e instanceof WaitTimeoutError) return;
      throw e;
    }
  };

  let announced = false;
  // A run deletes the Lease when it ends, so it is usually absent: create it first, and read it only when that fails.
  const first = await tryCreate();
  if (first) return started(first);
  for (;;) {
    signal?.throwIfAborted();
    const current = await client.find<V1Lease>('Lease', namespace, name, { signal });
    const now = Date.now();
    if (current === undefined) {
      const created = await tryCreate();
      if (created) return started(created);
      continue;
    }
    const h = current.spec?.holderIdentity ?? '';
    const expiry = leaseExpiry(current, duration);
    if (h === '' || h === holder || expiry <= now) {
      const taken = await replace(
        body(
          {
            holderIdentity: holder,
            leaseDurationSeconds: duration,
            acquireTime: h === holder ? (current.spec?.acquireTime ?? microTime(now)) : microTime(now),
            renewTime: microTime(now),
            leaseTransitions: (current.spec?.leaseTransitions ?? 0) + (h !== holder && h !== '' ? 1 : 0),
          },
          current.metadata?.resourceVersion,
        ),
        signal,
      );
      if (taken) {
        if (h !== '' && h !== holder) {
          logger.warn(`took over the deploy lock in namespace=${namespace} from ${h}: it stopped renewing it at ${isoOf(current.spec?.renewTime) ?? 'an unknown time'}`);
        }
        return started(taken, h !== '' && h !== holder ? h : undefined);
      }
      continue;
    }
    const since = isoOf(current.spec?.acquireTime);
    if (now >= deadline) {
      throw new LockTimeoutError(
        `namespace=${namespace} is locked by another deployment: ${h}${since ? ` holds it since ${since}` : ''}; gave up after waiting ${seconds(timeoutMs)} ` +
          `(it expires if not renewed for ${current.spec?.leaseDurationSeconds ?? duration}s; kubectl -n ${namespace} get lease ${name})`,
        h,
        since,
      );
    }
    if (!announced) {
      logger.info(`waiting for the deploy lock in namespace=${namespace}: held by ${h}${since ? ` since ${since}` : ''} (up to ${seconds(deadline - now)})`);
      announced = true;
    }
    // Wake at the holder's change, at its expiry (+ a margin, so it has passed), or at the deadline.
    await waitForChange(h, Math.min(deadline - now, expiry + 50 - now));
  }

  function started(lease: V1Lease, previousHolder?: string): DeployLock {
    let current = lease;
    const lost = new AbortController();
    const renewMs = opts.renewIntervalMs ?? Math.max(100, Math.floor((duration * 1000) / 3));
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inflight: Promise<void> | undefined;
    logger.info(`acquired the deploy lock in namespace=${namespace}${previousHolder !== undefined ? ' (taken over)' : ''} as ${holder}`);

    const lose = (why: string) => {
      stopped = true;
      logger.error(`lost the deploy lock in namespace=${namespace}: ${why}`);
      lost.abort(new Error(`lost the deploy lock in namespace=${namespace}: ${why}`));
    };

    const renew = async () => {
      try {
        for (let i = 0; i < 3 && !stopped; i++) {
          const spec = { ...current.spec, holderIdentity: holder, leaseDurationSeconds: duration, renewTime: microTime(Date.now()) };
          const r = await replace(body(spec, current.metadata?.resourceVersion));
          if (r) {
            current = r;
            return;
          }
          // Conflict: ours still (a retried write that had landed), or taken over?
          const fresh = await client.find<V1Lease>('Lease', namespace, name);
          if (fresh === undefined || fresh.spec?.holderIdentity !== holder) {
            lose(fresh === undefined ? 'the Lease was deleted' : `${fresh.spec?.holderIdentity ?? 'nobody'} holds it now`);
            return;
          }
          current = fresh;
        }
      } catch (e) {
        // Try again at the next renewal; the lease stays valid until its expiry.
        logger.warn(`could not renew the deploy lock in namespace=${namespace}: ${message(e)}`);
      }
    };

    const schedule = () => {
      if (stopped) return;
      timer = setTimeout(() => {
        inflight = renew().finally(() => {
          inflight = undefined;
          schedule();
        });
      }, renewMs);
    };
    schedule();

    let released: Promise<void> | undefined;
    const release = async () => {
      stopped = true;
      clearTimeout(timer);
      await inflight;
      if (lost.signal.aborted) return;
      for (let i = 0; i < 3; i++) {
        try {
          // Only the version this run holds: a 409 when another run took the lock since (read again below).
          if (await client.delete('Lease', namespace, name, { resourceVersion: current.metadata?.resourceVersion })) logger.debug(`released the deploy lock in namespace=${namespace}`);
          return;
        } catch (e) {
          let why = e;
          if (isKubeStatus(e, 409)) {
            try {
              const fresh = await client.find<V1Lease>('Lease', namespace, name);
              if (fresh === undefined || fresh.spec?.holderIdentity !== holder) return;
              current = fresh;
              continue;
            } catch (e2) {
              why = e2;
            }
          }
          logger.warn(`could not release the deploy lock in namespace=${namespace} (it expires ${duration}s after its last renewal): ${message(why)}`);
          return;
        }
      }
    };

    return {
      namespace,
      holder,
      lost: lost.signal,
      ...(previousHolder !== undefined ? { previousHolder } : {}),
      release: () => (released ??= release()),
    };
  }
}
