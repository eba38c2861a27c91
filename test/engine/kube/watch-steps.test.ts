/** The watch loop's decisions without a cluster: how a connection ended, and what the loop does next. */
import { describe, expect, it } from 'vitest';
import { KubeApiError } from '../../../src/engine/kube/index.js';
import { nextWatchStep, watchEndOf, type ConnectionState, type WatchEnd } from '../../../src/engine/kube/watch.js';

const target = { kind: 'ConfigMap', namespace: 'ns' };
const failure = (statusCode: number, retryable: boolean) => new KubeApiError({ verb: 'watch', ...target, statusCode, causes: [], retryable, delivery: 'yes' });
const toError = () => failure(500, true);
const quiet: ConnectionState = { events: 0, expired: false };

describe('watchEndOf', () => {
  it('reads an abort first, then a 410 (ERROR event or HTTP status), then an ERROR event, then the error', () => {
    expect(watchEndOf(new Error('x'), { ...quiet, expired: true }, true, toError)).toEqual({ kind: 'aborted' });
    expect(watchEndOf(undefined, { ...quiet, expired: true, errorEvent: failure(403, false) }, false, toError)).toEqual({ kind: 'expired' });
    expect(watchEndOf({ statusCode: 410 }, quiet, false, toError)).toEqual({ kind: 'expired' });
    const forbidden = failure(403, false);
    expect(watchEndOf(undefined, { ...quiet, errorEvent: forbidden }, false, toError)).toEqual({ kind: 'failed', error: forbidden });
    expect(watchEndOf(undefined, quiet, false, toError)).toEqual({ kind: 'closed' });
    expect(watchEndOf(Object.assign(new Error('idle'), { name: 'TimeoutError' }), quiet, false, toError)).toEqual({ kind: 'timeout' });
    expect(watchEndOf(new Error('ECONNRESET'), quiet, false, toError)).toMatchObject({ kind: 'failed', error: { statusCode: 500 } });
  });
});

describe('nextWatchStep', () => {
  const run = { events: 0, elapsedMs: 0, expiredInARow: 0 };
  const step = (end: WatchEnd, r: Partial<typeof run> = {}) => nextWatchStep(end, { ...run, ...r }, target);

  it('stops on an abort and resumes at once after the idle timeout', () => {
    expect(step({ kind: 'aborted' })).toEqual({ next: 'stop' });
    expect(step({ kind: 'timeout' })).toEqual({ next: 'resume' });
  });

  it('lists again when the version expired, backing off first only when it expired again right after a list', () => {
    expect(step({ kind: 'expired' })).toEqual({ next: 'relist' });
    expect(step({ kind: 'expired' }, { expiredInARow: 1, events: 3 })).toEqual({ next: 'relist' });
    const again = step({ kind: 'expired' }, { expiredInARow: 1 });
    expect(again).toMatchObject({ next: 'relist', backOff: { statusCode: 410, reason: 'Expired', retryable: true, kind: 'ConfigMap' } });
  });

  it('resumes after a close that followed some work, and backs off after one that came at once', () => {
    expect(step({ kind: 'closed' }, { events: 1 })).toEqual({ next: 'resume' });
    expect(step({ kind: 'closed' }, { elapsedMs: 1001 })).toEqual({ next: 'resume' });
    expect(step({ kind: 'closed' }, { elapsedMs: 1000 })).toMatchObject({ next: 'retry', error: { retryable: true, serverMessage: 'the server closed the watch at once' } });
  });

  it('backs off with the error of a failed connection', () => {
    const error = failure(429, true);
    expect(step({ kind: 'failed', error })).toEqual({ next: 'retry', error });
  });
});
