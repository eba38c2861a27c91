/**
 * A pass over the whole cluster run `delayMs` after it is first asked for (asks meanwhile join it), for the
 * controllers that scan every object rather than work through keys (garbage collector, namespace controller).
 */
import type { Clock } from '../node/clock.js';
import { errorMessage, type LogFn } from './util.js';

export class DebouncedPass {
  private cancel: (() => void) | undefined;
  private waiters: (() => void)[] = [];
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly clock: Clock,
    private readonly delayMs: number,
    private readonly pass: () => void,
    private readonly log?: LogFn,
  ) {}

  request(): void {
    if (this.cancel || this.stopped) return;
    this.cancel = this.clock.after(this.delayMs, () => {
      this.cancel = undefined;
      try {
        this.pass();
      } catch (err) {
        // A controller must never crash the host; the next change asks for another pass.
        this.log?.(`${this.name}: ${errorMessage(err)}`);
      } finally {
        if (!this.cancel) this.release();
      }
    });
  }

  /** Resolves once no pass is pending (a pass that asks for another keeps it pending). */
  settled(): Promise<void> {
    if (!this.cancel) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get pending(): boolean {
    return this.cancel !== undefined;
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = undefined;
    this.release();
  }

  private release(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
