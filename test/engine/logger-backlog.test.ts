/** streamBacklog: behind once a write() returned false (past the stream's highWaterMark); caught up at 'drain', or when the stream closes. */
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { streamBacklog } from '../../src/engine/logger.js';

/** A stream whose writes complete only when `release` is called, as a pipe nobody reads. */
function heldStream(highWaterMark = 100) {
  const held: (() => void)[] = [];
  const stream = new Writable({ highWaterMark, write: (_chunk, _enc, cb) => void held.push(cb) });
  return { stream, release: () => held.splice(0).forEach((cb) => cb()) };
}

it('is undefined while writes stay under the highWaterMark, then resolves once the queue drains', async () => {
  const { stream, release } = heldStream();
  const backlog = streamBacklog(stream);
  expect(stream.write('x'.repeat(50))).toBe(true);
  expect(backlog()).toBeUndefined();
  expect(stream.write('x'.repeat(50))).toBe(false);
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

it('ends the wait when the stream is destroyed (it will never drain), and is not behind afterwards', async () => {
  const { stream } = heldStream(10);
  const backlog = streamBacklog(stream);
  stream.write('x'.repeat(50));
  const behind = backlog();
  expect(behind).toBeInstanceOf(Promise);
  stream.destroy();
  await behind;
  expect(backlog()).toBeUndefined();
});
