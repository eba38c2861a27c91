/**
 * The action's entry point (bundled into dist/index.js, scripts/build.mjs): it only imports and calls, so everything
 * it runs, input parsing first, can be tested in-process (test/action/inputs.test.ts).
 */
import { cacheCompiledCode, exitWhenFlushed, loadHeapBounds } from '../engine/index.js';
import { run } from './main.js';

cacheCompiledCode();
// Not awaited: the bounds matter once stage logs stream, long after the first request.
void loadHeapBounds().then((heap) => heap.boundHeap());
await run();
await exitWhenFlushed();
