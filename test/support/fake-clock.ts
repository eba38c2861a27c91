/** A Clock (src/engine/clock.ts) that tests step by hand: timers fire only when `advance` passes them. */
import type { Clock } from '../../src/engine/clock.js';

export class FakeClock implements Clock {
  t = Date.parse('2030-01-01T00:00:00Z');
  private timers: { at: number; fn: () => void }[] = [];
  now(): number {
    return this.t;
  }
  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.t + ms, fn };
    this.timers.push(timer);
    return () => (this.timers = this.timers.filter((x) => x !== timer));
  }
  advance(ms: number): void {
    this.t += ms;
    const due = this.timers.filter((x) => x.at <= this.t);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const d of due) d.fn();
  }
  /** Advances in `stepMs` steps until no timer is pending (timers that schedule others included), at most `maxSteps`. */
  runAll(stepMs = 1, maxSteps = 1000): void {
    for (let i = 0; i < maxSteps && this.timers.length; i++) this.advance(stepMs);
  }
  get pending(): number {
    return this.timers.length;
  }
}
