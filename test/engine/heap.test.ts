/**
 * The heap bounds, each in a fresh node process (V8's heap is per process), on a workload whose objects survive a
 * scavenge or two, as a log stream's queued lines do: without capYoungGeneration the young generation grows to V8's
 * maximum, with it it stops near the cap; without boundOldGeneration the promoted garbage piles up in the old
 * generation, with it the old generation stays within the slack of what is live.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { YOUNG_GENERATION_CAP_BYTES } from '../../src/engine/heap.js';

const SLACK = 8 * 1024 * 1024;

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

/** Runs the workload (with or without the old generation's bound) and returns the old generation's largest use, in bytes. */
function largestOldGeneration(bounded: boolean): number {
  const script = `
    import v8 from 'node:v8';
    import { boundOldGeneration, capYoungGeneration } from ${JSON.stringify(heapModule)};
    capYoungGeneration();
    if (${bounded}) boundOldGeneration(${SLACK});
    const old = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_used_size;
    let largest = old();
    let keep = [];
    for (let batch = 0; batch < 300; batch++) {
      for (let i = 0; i < 50_000; i++) {
        keep.push('line ' + batch + ' ' + i + ' of a long stage log');
        if (keep.length > 50_000) keep = [];
      }
      largest = Math.max(largest, old());
      await new Promise((resolve) => setImmediate(resolve));
    }
    console.log(largest);
  `;
  const out = execFileSync(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], { encoding: 'utf8' });
  return Number(out.trim());
}

describe('boundOldGeneration', () => {
  it('keeps the old generation within its slack of what is live, where V8 alone lets promoted garbage pile up', () => {
    const free = largestOldGeneration(false);
    const bounded = largestOldGeneration(true);
    // Live: at most 50,000 short strings (about 4 MB) plus the runtime's own (about 8 MB); the check follows a
    // scavenge, which may promote up to the young generation's size (16 MB) past the slack.
    expect(bounded, `bounded, the old generation reached ${bounded / MB} MB`).toBeLessThanOrEqual(12 * MB + SLACK + 16 * MB);
    expect(free, `without the bound the old generation grew only to ${free / MB} MB`).toBeGreaterThan(2 * bounded);
  });
});
