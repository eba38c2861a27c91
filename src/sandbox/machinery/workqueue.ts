/** A keyed work queue like client-go's util/workqueue (rate-limited, delaying), on the injected Clock. */
import { errorMessage } from '../../engine/errors.js';
import { systemClock, type Clock } from './clock.js';
import { isConflict } from './errors.js';
import type { LogFn } from './log.js';

export interface WorkQueueOptions {
  /** First retry delay after a failed sync (doubles per consecutive failure). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  log?: LogFn;
  name?: string;
  /** Time for retries and `addAfter` (default the system clock). */
  clock?: Clock;
}

/**
 * A key queued several times is processed once; a key is never processed by two workers at once (re-added while
 * processing -> processed again afterwards); failures are retried with exponential backoff; `addAfter` is for real
 * deadlines only.
 */
export class WorkQueue {
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { due: number; cancel: () => void }>();
  private readonly failures = new Map<string, number>();
  private readonly clock: Clock;
  private scheduled = false;
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly handler: (key: string) => void | Promise<void>,
    private readonly opts: WorkQueueOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.queued.add(key);
    this.schedule();
  }

  /** Adds the key after `ms`; an earlier pending deadline for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key);
    const due = this.clock.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.due <= due) return;
    existing?.cancel();
    const cancel = this.clock.after(ms, () => {
      this.timers.delete(key);
      this.add(key);
    });
    this.timers.set(key, { due, cancel });
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    const keys = [...this.queued];
    this.queued.clear();
    const p = Promise.all(keys.map((key) => this.process(key))).then(() => undefined);
    this.running = p;
    await p;
  }

  private async process(key: string): Promise<void> {
    this.processing.add(key);
    try {
      await this.handler(key);
      this.failures.delete(key);
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const base = this.opts.retryBaseMs ?? 5;
      const delay = Math.min(base * 2 ** (n - 1), this.opts.retryMaxMs ?? 5_000);
      if (!isConflict(err)) this.opts.log?.(`${this.opts.name ?? 'controller'}: sync ${key} failed (retry in ${delay}ms): ${errorMessage(err)}`);
      this.addAfter(key, delay);
    } finally {
      this.processing.delete(key);
      if (this.dirty.delete(key)) this.add(key);
    }
  }

  /** Whether a key is queued or being processed (timers excluded). */
  get busy(): boolean {
    return this.queued.size > 0 || this.processing.size > 0 || this.scheduled;
  }

  /** Resolves when nothing is queued or being processed (timers excluded). */
  async idle(): Promise<void> {
    while (this.busy) {
      await (this.running ?? new Promise((r) => setImmediate(r)));
      await new Promise((r) => setImmediate(r));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    this.queued.clear();
    await this.running;
  }
}
