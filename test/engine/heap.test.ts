/**
 * capYoungGeneration, in a fresh node process (V8's heap is per process): a workload whose objects survive a
 * scavenge or two grows the young generation to V8's maximum without the cap, and stops near the cap with it.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { YOUNG_GENERATION_CAP_BYTES } from '../../src/engine/heap.js';

const MB = 1024 * 1024;
const heapModule = join(import.meta.dirname, '..', '..', 'src', 'engine', 'heap.ts');

/** Runs the workload (with or without the cap) and returns the young generation's largest size, in bytes. */
function largestYoungGeneration(capped: boolean): number {
  const script = `
    import v8 from 'node:v8';
    import { capYoungGeneration } from ${JSON.stringify(heapModule)};
    if (${capped}) capYoungGeneration();
    const young = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    let largest = young();
    let keep = [];
    // Batches, with a turn of the event loop between them (the GC observer is told there), as a log stream runs.
    for (let batch = 0; batch < 300; batch++) {
      for (let i = 0; i < 50_000; i++) {
        keep.push('line ' + batch + ' ' + i + ' of a long stage log');
        if (keep.length > 20_000) keep = [];
      }
      largest = Math.max(largest, young());
      await new Promise((resolve) => setImmediate(resolve));
    }
    console.log(largest);
  `;
  const out = execFileSync(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], { encoding: 'utf8' });
  return Number(out.trim());
}

describe('capYoungGeneration', () => {
  it('stops the young generation growing at the cap, where V8 alone grows it further', () => {
    const free = largestYoungGeneration(false);
    const capped = largestYoungGeneration(true);
    // Growth doubles: the cap is noticed at the first collection after it is reached, so at most one step past it.
    expect(capped).toBeLessThanOrEqual(2 * YOUNG_GENERATION_CAP_BYTES);
    expect(free, `without the cap the young generation grew only to ${free / MB} MB`).toBeGreaterThan(2 * YOUNG_GENERATION_CAP_BYTES);
  });
});
