/** streamBacklog: behind while more than its limit waits to be written; caught up at 'drain', or when the stream closes. */
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { streamBacklog } from '../../src/engine/logger.js';

/** A stream whose writes complete only when `release` is called, as a pipe nobody reads. */
function heldStream() {
  const held: (() => void)[] = [];
  const stream = new Writable({ highWaterMark: 16, write: (_chunk, _enc, cb) => void held.push(cb) });
  return { stream, release: () => held.splice(0).forEach((cb) => cb()) };
}

it('is undefined until more than the limit is queued, then resolves once the queue drains', async () => {
  const { stream, release } = heldStream();
  const backlog = streamBacklog(stream, 100);
  stream.write('x'.repeat(50));
  expect(backlog()).toBeUndefined();
  stream.write('x'.repeat(100));
  const behind = backlog();
  expect(behind).toBeInstanceOf(Promise);
  expect(backlog()).toBe(behind);
  let caughtUp = false;
  void behind!.then(() => (caughtUp = true));
  await Promise.resolve();
  expect(caughtUp).toBe(false);
  release();
  await new Promise((r) => setImmediate(r));
  release();
  await behind;
  expect(backlog()).toBeUndefined();
});

it('ends the wait when the stream is destroyed (it will never drain)', async () => {
  const { stream } = heldStream();
  const backlog = streamBacklog(stream, 10);
  stream.write('x'.repeat(50));
  const behind = backlog();
  expect(behind).toBeInstanceOf(Promise);
  stream.destroy();
  await behind;
});
