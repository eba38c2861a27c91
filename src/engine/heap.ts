/**
 * Keeps V8's young generation from growing past a cap, so a long deploy's memory stays flat.
 *
 * V8 doubles the young generation whenever the bytes surviving its scavenges add up to more than its size. Over a
 * long stream of short-lived objects (100 MB of stage log read line by line, hundreds of watch events) even a small
 * survival rate adds up, and it grows to 128 MB (two 64 MB semi-spaces): half of the deployer's peak RSS, for objects
 * that die young anyway. `node --max-semi-space-size` would cap it, but the runner starts the action as
 * `node dist/index.js` with no way to pass node flags, and V8 fixes the maximum when the process starts. The growth
 * factor, though, is read at each growth: set to 1 while the young generation is at the cap, it stops growing.
 * The cost is more scavenges (each promotes a little more) for a young generation a quarter the default maximum size.
 */
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The young generation's size (both semi-spaces) at which growth stops. */
export const YOUNG_GENERATION_CAP_BYTES = 16 * 1024 * 1024;

function youngGenerationBytes(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/** V8's own `--semi-space-growth-factor`, which lets the young generation grow again. */
const V8_SEMI_SPACE_GROWTH_FACTOR = 2;

/**
 * Watches garbage collections (a scavenge is when the young generation grows) and stops its growth while it is at
 * least `capBytes`. V8 also shrinks the young generation (to 1 MB when its memory reducer runs, after a quiet spell: a
 * log stream paused behind a slow reader), and with growth stopped it stayed that small: a scavenge at every MB
 * allocated promoted the lines in flight, and over a 100 MB stage log the old generation took 35 MB of that garbage.
 * So growth is allowed again whenever it is under the cap. Returns a function that stops watching (the growth factor
 * stays as last set).
 */
export function capYoungGeneration(capBytes = YOUNG_GENERATION_CAP_BYTES): () => void {
  let stopped = false;
  const adjust = (): void => {
    const atCap = youngGenerationBytes() >= capBytes;
    if (atCap === stopped) return;
    stopped = atCap;
    v8.setFlagsFromString(`--semi-space-growth-factor=${atCap ? 1 : V8_SEMI_SPACE_GROWTH_FACTOR}`);
  };
  adjust();
  const observer = new PerformanceObserver(adjust);
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}

/** How far the old generation may grow past what the last full collection left, before one is run. */
export const OLD_GENERATION_SLACK_BYTES = 24 * 1024 * 1024;

function oldGenerationBytes(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0;
}

/**
 * Keeps the old generation near what is live. V8 starts a full collection only when the old generation reaches a
 * limit it derives from the process's maximum heap, which is large on a large machine. Reading 100 MB of stage log,
 * each scavenge promotes a little (the lines still queued for output), and that garbage piled up to 70-80 MB of old
 * space before V8's first full collection, for a few MB that were live: with the young generation, half the peak RSS.
 * `--max-old-space-size` would lower the limit, but, as above, the action cannot pass node flags, and V8 fixes the
 * limit when the process starts. So the deployer runs a full collection itself (through `gc`, which V8 exposes to a
 * new context once `--expose-gc` is set) when the old generation has grown `slackBytes` past what the last full
 * collection left; it is checked after each scavenge, so the cost is one full collection per `slackBytes` promoted.
 * Returns a function that stops it.
 *
 * A backstop now for stage logs: since they wait on the output stream's backpressure (logger.ts streamBacklog) and
 * the young generation grows back after V8 shrinks it (above), a 100 MB stage log promoted 2-4 MB in all and the
 * action's RSS stayed flat (126 MB) with this bound turned off.
 */
export function boundOldGeneration(slackBytes = OLD_GENERATION_SLACK_BYTES): () => void {
  v8.setFlagsFromString('--expose-gc');
  // The context (a millisecond or two) is made when the first collection is due, which a short command never reaches.
  let gc: (() => void) | undefined;
  let floor = oldGenerationBytes();
  const isMajor = (e: PerformanceEntry): boolean => (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR;
  const observer = new PerformanceObserver((list) => {
    // A full collection (V8's or ours) sets the new floor; after scavenges only, the growth since may call for one.
    if (!list.getEntries().some(isMajor)) {
      if (oldGenerationBytes() <= floor + slackBytes) return;
      gc ??= runInNewContext('gc') as () => void;
      gc();
    }
    floor = oldGenerationBytes();
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}

/** Both bounds, for a deployer's process (the action's and the CLI's entry points). */
export function boundHeap(): void {
  capYoungGeneration();
  boundOldGeneration();
}
