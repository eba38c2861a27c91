/**
 * The action's entry point (bundled into dist/index.js, scripts/build.mjs): it only imports and calls, so everything
 * it runs, input parsing first, can be tested in-process (test/action/inputs.test.ts).
 */
import { boundHeap, cacheCompiledCode } from '../engine/index.js';
import { run } from './main.js';

cacheCompiledCode();
boundHeap();
await run();
