/**
 * The tests' one poller: calls `fn` until it returns a truthy value (errors count as not yet) and returns that value;
 * after `timeoutMs` fails with `what` and the last value or error. The bound only ends a hang: generous, because a
 * loaded 2-core machine is slow, and a test must not fail for being slow.
 */
export async function eventually<T>(
  fn: () => Promise<T | undefined | false | null> | T | undefined | false | null,
  what = 'the condition',
  timeoutMs = 60_000,
  intervalMs = 50,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
