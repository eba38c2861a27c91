/**
 * Ends a command's process once its work is done and its output flushed. Left to end by itself, Node first tears the
 * heap down (V8's isolate disposal): after a deploy, 40-50 ms between the action's last line and its exit, which a
 * workflow step waits through for nothing (README, Benchmark). process.exit() skips that teardown and still writes
 * Node's compile cache. Writes to a pipe are asynchronous on POSIX, so each stream is flushed first: an empty write's
 * callback runs once every write before it is done. Without `code`, process.exitCode (core.setFailed's 1) is the code.
 */
export async function exitWhenFlushed(code?: number): Promise<never> {
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((done) => stream.write('', () => done()))));
  // Not process.exit(code): Node 24's process.exit(undefined) exits 0 even when process.exitCode is set.
  process.exit(code ?? process.exitCode);
}
