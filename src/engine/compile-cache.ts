/**
 * V8's code cache for what a run loads lazily (client-node and the deploy engine: most of its code), kept by Node in
 * the OS temp dir (node:module enableCompileCache; `NODE_COMPILE_CACHE` moves it, `NODE_DISABLE_COMPILE_CACHE` turns
 * it off). A later run on the same machine (the CLI on a laptop, a self-hosted runner) skips compiling those chunks;
 * a fresh hosted runner compiles them as before. Node keys each entry by the source's hash and its own version, so a
 * stale entry is never used. TypeScript's `tsc` does the same.
 */
import module from 'node:module';

export function cacheCompiledCode(): void {
  try {
    module.enableCompileCache?.();
  } catch {
    // No writable temp dir: no cache, nothing else changes.
  }
}
