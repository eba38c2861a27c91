/**
 * The deploy lock's Lease (lock.ts): its times as the API server writes them, the decision an acquiring run takes from
 * what it reads (pure, `decideLock`), and `LockLease`, the reads and conditional writes of the one Lease object.
 */
import type { V1Lease, V1LeaseSpec, V1MicroTime } from '@kubernetes/client-node';
import { isKubeStatus, WaitTimeoutError, waitForObject, type KubeClient, type Manifest } from '../kube/index.js';
import type { Logger } from '../logger.js';

/** A holder that has not renewed for this long has gone. */
export const DEFAULT_LEASE_DURATION_SECONDS = 60;

/** MicroTime as the API server parses it (RFC 3339 with 6 fractional digits). */
export function microTime(ms: number): V1MicroTime {
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

/** The spec of a Lease `holder` creates at `now`. */
export function newLeaseSpec(holder: string, durationSeconds: number, now: number): V1LeaseSpec {
  return { holderIdentity: holder, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 };
}

/** What a run that wants the lock does about the Lease it read. */
export type LockDecision =
  /** There is none: create it. */
  | { kind: 'create' }
  /** It is free (released), this run's own, or expired: write `spec` over it (based on its resourceVersion). */
  | { kind: 'take'; spec: V1LeaseSpec; takenOver?: { holder: string; lastRenewal?: string } }
  /** Another run holds it: wait until it changes, `expiry` (ms) passes, or the run gives up. */
  | { kind: 'wait'; holder: string; since?: string; expiry: number; durationSeconds: number };

/** `decideLock`'s view of the lease: who this run is, the duration it holds leases for, and the time. */
export interface LockView {
  holder: string;
  durationSeconds: number;
  now: number;
}

/** The decision of a run (`view`) about the Lease `current` it has just read (undefined: there is none). */
export function decideLock(current: V1Lease | undefined, view: LockView): LockDecision {
  if (current === undefined) return { kind: 'create' };
  const { holder, durationSeconds, now } = view;
  const h = current.spec?.holderIdentity ?? '';
  const expiry = leaseExpiry(current, durationSeconds);
  if (h !== '' && h !== holder && expiry > now) {
    const since = isoOf(current.spec?.acquireTime);
    return { kind: 'wait', holder: h, ...(since !== undefined ? { since } : {}), expiry, durationSeconds: current.spec?.leaseDurationSeconds ?? durationSeconds };
  }
  const other = h !== '' && h !== holder;
  const lastRenewal = isoOf(current.spec?.renewTime);
  return {
    kind: 'take',
    spec: {
      holderIdentity: holder,
      leaseDurationSeconds: durationSeconds,
      acquireTime: h === holder ? (current.spec?.acquireTime ?? microTime(now)) : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (current.spec?.leaseTransitions ?? 0) + (other ? 1 : 0),
    },
    ...(other ? { takenOver: { holder: h, ...(lastRenewal !== undefined ? { lastRenewal } : {}) } } : {}),
  };
}

/** The reads and writes of the lock's Lease that a held lock makes (so tests can stand in for the API). */
export type LeaseAccess = Pick<LockLease, 'find' | 'replace' | 'delete'>;

/**
 * The lock's one Lease in one namespace. Every write carries the resourceVersion it was based on (create:
 * AlreadyExists; replace: Conflict), so two runs can never both win.
 */
export class LockLease {
  constructor(
    private readonly client: KubeClient,
    private readonly logger: Logger,
    readonly namespace: string,
    readonly name: string,
    private readonly labels: Record<string, string>,
  ) {}

  find(signal?: AbortSignal): Promise<V1Lease | undefined> {
    return this.client.find<V1Lease>('Lease', this.namespace, this.name, signal ? { signal } : {});
  }

  /** Creates the Lease; undefined when it exists already. */
  async create(spec: V1LeaseSpec, signal?: AbortSignal): Promise<V1Lease | undefined> {
    try {
      return await this.client.create<V1Lease>(this.body(spec) as unknown as Manifest, { signal });
    } catch (e) {
      if (isKubeStatus(e, 409)) return undefined;
      throw e;
    }
  }

  /** PUT based on `resourceVersion`; undefined when someone else wrote first (Conflict) or it is gone. */
  async replace(spec: V1LeaseSpec, resourceVersion: string | undefined, signal?: AbortSignal): Promise<V1Lease | undefined> {
    try {
      return await this.client.replace<V1Lease>(this.body(spec, resourceVersion) as unknown as Manifest, { signal });
    } catch (e) {
      if (isKubeStatus(e, 409) || isKubeStatus(e, 404)) return undefined;
      throw e;
    }
  }

  /** Deletes the version `resourceVersion` (a 409 KubeApiError when it changed); false when it was gone. */
  delete(resourceVersion: string | undefined): Promise<boolean> {
    return this.client.delete('Lease', this.namespace, this.name, { resourceVersion });
  }

  /** Watches until the holder is no longer `holder` or the Lease goes, or until `ms` pass. */
  async waitForChange(holder: string, ms: number, signal?: AbortSignal): Promise<void> {
    try {
      await waitForObject<V1Lease, true>(
        { client: this.client, path: `/apis/coordination.k8s.io/v1/namespaces/${this.namespace}/leases`, name: this.name, logger: this.logger },
        (o) => (o === undefined || (o.spec?.holderIdentity ?? '') !== holder ? true : undefined),
        { timeoutMs: Math.max(1, ms), signal, description: `the deploy lock in namespace=${this.namespace} to be released` },
      );
    } catch (e) {
      if (e instanceof WaitTimeoutError) return;
      throw e;
    }
  }

  private body(spec: V1LeaseSpec, resourceVersion?: string): V1Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace, labels: this.labels, ...(resourceVersion !== undefined ? { resourceVersion } : {}) },
      spec,
    };
  }
}
