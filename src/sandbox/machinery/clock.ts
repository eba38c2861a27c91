/**
 * The sandbox's time source: the node's periodic work (Lease renewal, status reports), the kubelet's back-offs and
 * the controllers' deadlines all read it, so tests step time by hand instead of waiting.
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
    t.unref?.();
    return () => clearTimeout(t);
  },
};
