/** Entry point of the `bodywork-deploy` CLI (bundled by esbuild into dist/cli/index.js, which gets the shebang; scripts/build.mjs). */
import { cacheCompiledCode, exitWhenFlushed, loadHeapBounds } from '../engine/base.js';
import { processIo } from './io.js';
import { run, runsLong } from './program.js';

cacheCompiledCode();
const args = process.argv.slice(2);
// Only for those: loading the bounds' modules (v8, vm, perf_hooks) cost a short command such as `validate` 10-15 ms.
if (runsLong(args)) void loadHeapBounds().then((heap) => heap.boundHeap());
void run(args, processIo).then((code) => exitWhenFlushed(code));
