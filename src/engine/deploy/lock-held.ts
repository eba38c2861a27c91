/**
 * A deploy lock once acquired (lock.ts): renewed on a timer while the run lasts, lost when another run took the Lease
 * over, released (deleted, never someone else's) at the end.
 */
import type { V1Lease } from '@kubernetes/client-node';
import type { Clock } from '../clock.js';
import { errorMessage } from '../errors.js';
import { isKubeStatus } from '../kube/index.js';
import type { Logger } from '../logger.js';
import { microTime, type LeaseAccess } from './lock-lease.js';

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

/** What a held lock needs besides its Lease. */
export interface HeldLockOptions {
  lease: LeaseAccess;
  logger: Logger;
  namespace: string;
  holder: string;
  durationSeconds: number;
  renewIntervalMs: number;
  clock: Clock;
}

/** Tries per renewal or release when a Conflict shows the Lease is still ours (a retried write that had landed). */
const CONFLICT_RETRIES = 3;

/**
 * The lock held: `current` is the Lease as last written; a timer renews it every `renewIntervalMs` until `stopped`
 * (released or lost); `inflight` is the renewal under way, which a release waits for.
 */
export class HeldLock implements DeployLock {
  readonly namespace: string;
  readonly holder: string;
  readonly previousHolder?: string;
  readonly lost: AbortSignal;
  private readonly lostController = new AbortController();
  private current: V1Lease;
  private stopped = false;
  private cancelRenewal: (() => void) | undefined;
  private inflight: Promise<void> | undefined;
  private released: Promise<void> | undefined;

  constructor(
    private readonly o: HeldLockOptions,
    lease: V1Lease,
    previousHolder?: string,
  ) {
    this.namespace = o.namespace;
    this.holder = o.holder;
    this.lost = this.lostController.signal;
    this.current = lease;
    if (previousHolder !== undefined) this.previousHolder = previousHolder;
    o.logger.info(`acquired the deploy lock in namespace=${o.namespace}${previousHolder !== undefined ? ' (taken over)' : ''} as ${o.holder}`);
    this.schedule();
  }

  release(): Promise<void> {
    return (this.released ??= this.stopAndDelete());
  }

  private schedule(): void {
    if (this.stopped) return;
    this.cancelRenewal = this.o.clock.after(this.o.renewIntervalMs, () => {
      this.inflight = this.renew().finally(() => {
        this.inflight = undefined;
        this.schedule();
      });
    });
  }

  private async renew(): Promise<void> {
    const { lease, holder, durationSeconds } = this.o;
    try {
      for (let i = 0; i < CONFLICT_RETRIES && !this.stopped; i++) {
        const spec = { ...this.current.spec, holderIdentity: holder, leaseDurationSeconds: durationSeconds, renewTime: microTime(this.o.clock.now()) };
        const renewed = await lease.replace(spec, this.current.metadata?.resourceVersion);
        if (renewed) {
          this.current = renewed;
          return;
        }
        // Conflict: ours still (a retried write that had landed), or taken over?
        const fresh = await lease.find();
        if (fresh === undefined) return this.lose('the Lease was deleted');
        if (fresh.spec?.holderIdentity !== holder) return this.lose(`${fresh.spec?.holderIdentity ?? 'nobody'} holds it now`);
        this.current = fresh;
      }
    } catch (e) {
      // Try again at the next renewal; the lease stays valid until its expiry.
      this.o.logger.warn(`could not renew the deploy lock in namespace=${this.namespace}: ${errorMessage(e)}`);
    }
  }

  private lose(why: string): void {
    this.stopped = true;
    const message = `lost the deploy lock in namespace=${this.namespace}: ${why}`;
    this.o.logger.error(message);
    this.lostController.abort(new Error(message));
  }

  private async stopAndDelete(): Promise<void> {
    this.stopped = true;
    this.cancelRenewal?.();
    await this.inflight;
    if (this.lost.aborted) return;
    for (let i = 0; i < CONFLICT_RETRIES; i++) {
      try {
        // Only the version this run holds: a 409 when another run took the lock since (read again below).
        if (await this.o.lease.delete(this.current.metadata?.resourceVersion)) this.o.logger.debug(`released the deploy lock in namespace=${this.namespace}`);
        return;
      } catch (e) {
        let why = e;
        if (isKubeStatus(e, 409)) {
          try {
            const fresh = await this.o.lease.find();
            if (fresh === undefined || fresh.spec?.holderIdentity !== this.holder) return;
            this.current = fresh;
            continue;
          } catch (e2) {
            why = e2;
          }
        }
        this.o.logger.warn(`could not release the deploy lock in namespace=${this.namespace} (it expires ${this.o.durationSeconds}s after its last renewal): ${errorMessage(why)}`);
        return;
      }
    }
  }
}

