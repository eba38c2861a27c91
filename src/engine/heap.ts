/**
 * Keeps V8's young generation from growing past a cap, so a long deploy's memory stays flat.
 *
 * V8 doubles the young generation whenever the bytes surviving its scavenges add up to more than its size. Over a
 * long stream of short-lived objects (100 MB of stage log read line by line, hundreds of watch events) even a small
 * survival rate adds up, and it grows to 128 MB (two 64 MB semi-spaces): half of the deployer's peak RSS, for objects
 * that die young anyway. `node --max-semi-space-size` would cap it, but the runner starts the action as
 * `node dist/index.js` with no way to pass node flags, and V8 fixes the maximum when the process starts. The growth
 * factor, though, is read at each growth: set to 1 once the young generation has reached the cap, it stops growing.
 * The cost is more scavenges (each promotes a little more) for a young generation a quarter the default maximum size.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

/** The young generation's size (both semi-spaces) at which growth stops. */
export const YOUNG_GENERATION_CAP_BYTES = 16 * 1024 * 1024;

function youngGenerationBytes(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * Watches garbage collections (a scavenge is when the young generation grows) and stops its growth once it is at
 * least `capBytes`. Idempotent per process; returns a function that stops watching (growth stays stopped).
 */
export function capYoungGeneration(capBytes = YOUNG_GENERATION_CAP_BYTES): () => void {
  const stopGrowth = (): boolean => {
    if (youngGenerationBytes() < capBytes) return false;
    v8.setFlagsFromString('--semi-space-growth-factor=1');
    return true;
  };
  if (stopGrowth()) return () => {};
  const observer = new PerformanceObserver((_list, obs) => {
    if (stopGrowth()) obs.disconnect();
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}
