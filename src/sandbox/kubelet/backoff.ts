/**
 * Per-key exponential back-off, the shape of K pkg/kubelet/util/flowcontrol (client-go flowcontrol.Backoff): the
 * first step is the base, each later step doubles up to the cap, and an entry not stepped for 2×cap starts over.
 * The kubelet keeps one for crash-looping containers (pod-worker.ts, keyed by container) and one for failed image
 * pulls (image-pull.ts, keyed by pod and image).
 */
import type { Clock } from '../machinery/clock.js';

interface Entry {
  durationMs: number;
  /** When the entry was last stepped (ms). */
  lastUpdate: number;
}

export class Backoff {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly clock: Pick<Clock, 'now'>,
  ) {}

  /** Steps `id`'s back-off (the base first or after expiry, then doubling up to the cap) and returns it. */
  next(id: string): number {
    const now = this.clock.now();
    const e = this.entries.get(id);
    const durationMs = e === undefined || this.expired(e, now) ? this.baseMs : Math.min(e.durationMs * 2, this.maxMs);
    this.entries.set(id, { durationMs, lastUpdate: now });
    return durationMs;
  }

  /**
   * Whether `id` still backs off from an event at `eventMs` (IsInBackOffSince: a container's last exit): the current
   * back-off and the time left, or undefined once it has passed or the entry expired.
   */
  since(id: string, eventMs: number): { durationMs: number; remainingMs: number } | undefined {
    const now = this.clock.now();
    const e = this.entries.get(id);
    if (e === undefined || this.expired(e, now)) return undefined;
    const remainingMs = eventMs + e.durationMs - now;
    return remainingMs > 0 ? { durationMs: e.durationMs, remainingMs } : undefined;
  }

  /** The time `id` still backs off from its last step (IsInBackOffSinceUpdate), or undefined. */
  sinceUpdate(id: string): number | undefined {
    const e = this.entries.get(id);
    if (e === undefined) return undefined;
    const remainingMs = e.lastUpdate + e.durationMs - this.clock.now();
    return remainingMs > 0 ? remainingMs : undefined;
  }

  /** Drops the entries whose key matches (a pod that is gone). */
  forget(matches: (id: string) => boolean): void {
    for (const id of this.entries.keys()) if (matches(id)) this.entries.delete(id);
  }

  private expired(e: Entry, now: number): boolean {
    return now - e.lastUpdate > 2 * this.maxMs;
  }
}

/** Go's time.Duration.String() for the back-off message (10s, 1m20s, 5m0s, 200ms). */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const totalS = ms / 1000;
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const s = +(totalS % 60).toFixed(3);
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}
