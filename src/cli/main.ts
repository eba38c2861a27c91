/** Entry point of the `bodywork-deploy` CLI (bundled by esbuild into dist/cli/index.js, which gets the shebang; scripts/build.mjs). */
import { boundHeap, cacheCompiledCode } from '../engine/base.js';
import { processIo } from './io.js';
import { run } from './program.js';

cacheCompiledCode();
boundHeap();
void run(process.argv.slice(2), processIo).then((code) => {
  // Not process.exit(): stdout may still be flushing a large plan into a pipe.
  process.exitCode = code;
});
