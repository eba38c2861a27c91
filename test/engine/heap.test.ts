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

/**
 * Runs the workload in a fresh node process after `setup` (the bounds to apply) and returns the largest size of a
 * heap space: `new_space`'s size (the young generation) or `old_space`'s use, in bytes. The strings are kept for a
 * while (`window` at most), so each scavenge promotes some, as a log stream's queued lines do.
 */
function largest(setup: string, space: 'new_space' | 'old_space', window: number, batches: number): number {
  const script = `
    import v8 from 'node:v8';
    import { boundOldGeneration, capYoungGeneration } from ${JSON.stringify(heapModule)};
    ${setup}
    const stats = v8.getHeapSpaceStatistics;
    const size = () => stats().find((s) => s.space_name === '${space}')['${space === 'new_space' ? 'space_size' : 'space_used_size'}'];
    let largest = size();
    let keep = [];
    // Batches, with a turn of the event loop between them (the GC observer is told there), as a log stream runs.
    for (let batch = 0; batch < ${batches}; batch++) {
      for (let i = 0; i < 50_000; i++) {
        keep.push('line ' + batch + ' ' + i + ' of a long stage log');
        if (keep.length > ${window}) keep = [];
      }
      largest = Math.max(largest, size());
      await new Promise((resolve) => setImmediate(resolve));
    }
    console.log(largest);
  `;
  const out = execFileSync(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], { encoding: 'utf8' });
  return Number(out.trim());
}

const largestYoungGeneration = (capped: boolean) => largest(capped ? 'capYoungGeneration();' : '', 'new_space', 20_000, 300);
const largestOldGeneration = (bounded: boolean) => largest(`capYoungGeneration();${bounded ? ` boundOldGeneration(${SLACK});` : ''}`, 'old_space', 50_000, 300);

describe('capYoungGeneration', () => {
  it('stops the young generation growing at the cap, where V8 alone grows it further', () => {
    const free = largestYoungGeneration(false);
    const capped = largestYoungGeneration(true);
    // Growth doubles: the cap is noticed at the first collection after it is reached, so at most one step past it.
    expect(capped).toBeLessThanOrEqual(2 * YOUNG_GENERATION_CAP_BYTES);
    expect(free, `without the cap the young generation grew only to ${free / MB} MB`).toBeGreaterThan(2 * YOUNG_GENERATION_CAP_BYTES);
  });
});

describe('capYoungGeneration after V8 shrinks the young generation', () => {
  it('lets it grow back to the cap, where it stayed at its smallest size', () => {
    // V8's memory reducer (a quiet spell) shrinks the young generation; a last-resort collection does the same at once.
    const script = `
      import v8 from 'node:v8';
      import { runInNewContext } from 'node:vm';
      import { capYoungGeneration } from ${JSON.stringify(heapModule)};
      capYoungGeneration();
      v8.setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc');
      const size = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
      async function work() {
        let keep = [];
        let largest = 0;
        for (let batch = 0; batch < 150; batch++) {
          for (let i = 0; i < 50_000; i++) {
            keep.push('line ' + batch + ' ' + i + ' of a long stage log');
            if (keep.length > 20_000) keep = [];
          }
          largest = Math.max(largest, size());
          await new Promise((resolve) => setImmediate(resolve));
        }
        return largest;
      }
      const grown = await work();
      gc({ type: 'major', flavor: 'last-resort' });
      const shrunk = size();
      console.log(JSON.stringify({ grown, shrunk, regrown: await work() }));
    `;
    const out = execFileSync(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], { encoding: 'utf8' });
    const { grown, shrunk, regrown } = JSON.parse(out) as Record<string, number>;
    expect(grown).toBeGreaterThanOrEqual(YOUNG_GENERATION_CAP_BYTES);
    expect(shrunk, 'the last-resort collection did not shrink the young generation').toBeLessThan(YOUNG_GENERATION_CAP_BYTES / 4);
    expect(regrown).toBeGreaterThanOrEqual(YOUNG_GENERATION_CAP_BYTES);
    expect(regrown).toBeLessThanOrEqual(2 * YOUNG_GENERATION_CAP_BYTES);
  });
});

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
