/**
 * The one time source of the engine and the sandbox: the deploy lock's renewals and deadlines, the node's periodic
 * work, the kubelet's back-offs and probe ticks, the controllers' deadlines. Tests step a FakeClock
 * (test/support/fake-clock.ts) by hand instead of waiting.
 */
export interface Clock {
  now(): number;
  /** Calls `fn` once after `ms`; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    // A timer never keeps the process alive on its own: whoever set it holds the work that needs it.
    t.unref?.();
    return () => clearTimeout(t);
  },
};
