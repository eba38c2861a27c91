import type { V1ConfigMap } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeApiError, WaitTimeoutError, waitFor, waitForObject, watchObjects, type WatchEvent } from '../../../src/engine/kube/index.js';
import { Collector, startTestCluster, type TestCluster } from './helpers.js';

const LABELS = { app: 'watch-test' };
const SELECTOR = 'app=watch-test';

function cm(namespace: string, name: string, data: Record<string, string>) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels: LABELS }, data };
}

interface Seen {
  type: string;
  name: string;
  rv: string;
  synthetic: boolean;
  data?: Record<string, string>;
}

function seen(e: WatchEvent<V1ConfigMap>): Seen {
  return { type: e.type, name: e.object.metadata!.name!, rv: e.object.metadata!.resourceVersion!, synthetic: e.synthetic, data: e.object.data };
}

/** Starts watchObjects on the namespace's ConfigMaps; resolves after the first list. */
async function startWatch(c: TestCluster, ns: string, extra: { resourceVersion?: string; initial?: V1ConfigMap[] } = {}) {
  const ac = new AbortController();
  const events = new Collector<Seen>();
  const syncs = new Collector<string[]>();
  let cache: ReadonlyMap<string, V1ConfigMap> = new Map();
  const done = watchObjects<V1ConfigMap>({
    client: c.client,
    path: `/api/v1/namespaces/${ns}/configmaps`,
    labelSelector: SELECTOR,
    signal: ac.signal,
    backoff: { baseMs: 20, capMs: 200 },
    ...extra,
    onEvent: (e, objects) => {
      cache = objects;
      events.push(seen(e));
    },
    onSync: (objects) => {
      cache = objects;
      syncs.push([...objects.keys()].sort());
    },
  });
  if (!extra.resourceVersion) await syncs.until((s) => s.length > 0);
  return { ac, events, syncs, done, cache: () => cache };
}

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

async function freshCluster(faults?: Parameters<typeof startTestCluster>[0]): Promise<TestCluster> {
  cluster = await startTestCluster(faults);
  return cluster;
}

describe('watchObjects', () => {
  it('sees ADDED, MODIFIED and DELETED in order', async () => {
    const c = await freshCluster();
    await c.client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'w1' } });
    await c.client.apply(cm('w1', 'before', { v: '0' }));
    const w = await startWatch(c, 'w1');
    // The object that existed before the watch arrives from the list.
    expect(w.events.items).toEqual([expect.objectContaining({ type: 'ADDED', name: 'before', synthetic: true })]);
    await c.client.apply(cm('w1', 'a', { v: '1' }));
    await c.client.apply(cm('w1', 'a', { v: '2' }));
    await c.client.delete('ConfigMap', 'w1', 'a');
    await w.events.until((e) => e.length === 4);
    expect(w.events.items.slice(1).map((e) => [e.type, e.name, e.synthetic, e.data?.v])).toEqual([
      ['ADDED', 'a', false, '1'],
      ['MODIFIED', 'a', false, '2'],
      ['DELETED', 'a', false, '2'],
    ]);
    const rvs = w.events.items.slice(1).map((e) => Number(e.rv));
    expect(rvs).toEqual([...rvs].sort((x, y) => x - y));
    expect([...w.cache().keys()]).toEqual(['before']);
    w.ac.abort();
    await w.done;
    expect(c.client.requestCounts()).toMatchObject({ list: 1, watch: 1 });
  });

  it('resumes after the server cuts the watch, without losing or repeating events', async () => {
    // Watches are cut every second; each reconnection takes 200 ms, during which the test changes objects.
    const c = await freshCluster({ watchCutAfterSeconds: 1, latencyMs: 200 });
    await c.client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'w2' } });
    const w = await startWatch(c, 'w2');
    const watches = () => c.logger.count('WATCH /api/v1/namespaces/w2/configmaps');
    const changes: (() => void)[] = [
      () => c.store.create('configmaps', 'w2', cm('w2', 'a', { v: '1' })),
      () => c.store.patch('configmaps', 'w2', 'a', 'merge', { data: { v: '2' } }),
      () => {
        c.store.patch('configmaps', 'w2', 'a', 'merge', { data: { v: '3' } });
        c.store.create('configmaps', 'w2', cm('w2', 'b', { v: '1' }));
      },
      () => c.store.delete('configmaps', 'w2', 'a'),
    ];
    for (const change of changes) {
      // Right after a reconnection started (logged before its request), while no watch is open.
      const n = watches();
      await c.logger.until(() => watches() > n, 5_000, 'a re-watch');
      change();
    }
    await w.events.until((e) => e.length === 5);
    expect(w.events.items.map((e) => [e.type, e.name, e.data?.v, e.synthetic])).toEqual([
      ['ADDED', 'a', '1', false],
      ['MODIFIED', 'a', '2', false],
      ['MODIFIED', 'a', '3', false],
      ['ADDED', 'b', '1', false],
      ['DELETED', 'a', '3', false],
    ]);
    expect(new Set(w.events.items.map((e) => e.rv)).size).toBe(5);
    expect([...w.cache().keys()]).toEqual(['b']);
    expect(c.client.requestCounts().list).toBe(1);
    expect(c.client.requestCounts().watch).toBeGreaterThanOrEqual(5);
    w.ac.abort();
    await w.done;
  });

  it('a stale resourceVersion (410 Expired) makes it list again and emit the difference', async () => {
    const c = await freshCluster({ watchCutAfterSeconds: 1, latencyMs: 200 });
    await c.client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'w3' } });
    await c.client.apply(cm('w3', 'gone', { v: '1' }));
    await c.client.apply(cm('w3', 'kept', { v: '1' }));
    const w = await startWatch(c, 'w3');
    expect(w.syncs.items).toEqual([['gone', 'kept']]);
    // While the cut watch reconnects: changes, then compaction, so the resume gets 410 and must re-list.
    const n = c.logger.count('WATCH /api/v1/namespaces/w3/configmaps');
    await c.logger.until(() => c.logger.count('WATCH /api/v1/namespaces/w3/configmaps') > n, 5_000, 'a re-watch');
    c.store.delete('configmaps', 'w3', 'gone');
    c.store.patch('configmaps', 'w3', 'kept', 'merge', { data: { v: '2' } });
    c.store.create('configmaps', 'w3', cm('w3', 'new', { v: '1' }));
    c.server.watchHub.compact();
    await w.syncs.until((s) => s.length === 2);
    expect(w.syncs.items[1]).toEqual(['kept', 'new']);
    expect(w.events.items.slice(2).map((e) => [e.type, e.name, e.data?.v, e.synthetic])).toEqual([
      ['DELETED', 'gone', '1', true],
      ['MODIFIED', 'kept', '2', true],
      ['ADDED', 'new', '1', true],
    ]);
    expect(c.logger.messages('debug').some((m) => /^Watch of \/api\/v1\/namespaces\/w3\/configmaps expired at resourceVersion \d+; listing again$/.test(m))).toBe(true);
    // Live events flow again afterwards.
    await c.client.apply(cm('w3', 'new', { v: '2' }));
    await w.events.until((e) => e.some((x) => x.name === 'new' && x.data?.v === '2'));
    expect(w.events.items.at(-1)).toMatchObject({ type: 'MODIFIED', name: 'new', synthetic: false });
    w.ac.abort();
    await w.done;
  });

  it("resumes at once after client-node's idle timeout, without listing again", async () => {
    // No bookmarks for a minute and a 300 ms client idle timeout: every quiet watch ends with a TimeoutError.
    cluster = await startTestCluster(undefined, {}, { bookmarkIntervalMs: 60_000 });
    const c = cluster;
    await c.client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'w6' } });
    const ac = new AbortController();
    const events = new Collector<Seen>();
    const done = watchObjects<V1ConfigMap>({
      client: c.client,
      path: '/api/v1/namespaces/w6/configmaps',
      signal: ac.signal,
      idleTimeoutMs: 300,
      onEvent: (e) => events.push(seen(e)),
    });
    await c.logger.until((m) => m.filter((x) => x.includes('idle for too long')).length >= 2, 10_000, 'two idle timeouts');
    await c.client.apply(cm('w6', 'late', { v: '1' }));
    await events.until((e) => e.some((x) => x.name === 'late'));
    expect(events.items.filter((e) => e.name === 'late')).toEqual([expect.objectContaining({ type: 'ADDED', synthetic: false })]);
    expect(c.client.requestCounts().list).toBe(1);
    expect(c.client.requestCounts().watch).toBeGreaterThanOrEqual(3);
    expect(c.logger.messages('debug').some((m) => m.startsWith('Re-watching'))).toBe(false);
    ac.abort();
    await done;
  });

  it('backs off and re-watches when watch requests fail with 500s', async () => {
    const c = await freshCluster({ seed: 4, errorRate: 0.4, watchCutAfterSeconds: 1, pathPattern: /\/namespaces\/w7\/configmaps$/ });
    await c.client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'w7' } });
    const p = waitForObject<V1ConfigMap, string>(
      { client: c.client, path: '/api/v1/namespaces/w7/configmaps', name: 'result', backoff: { baseMs: 20, capMs: 100 } },
      (o) => o?.data?.v,
      { timeoutMs: 20_000 },
    );
    await c.logger.until((m) => m.some((x) => x.startsWith('Re-watching /api/v1/namespaces/w7/configmaps')), 15_000, 'a failed watch');
    await c.client.apply(cm('w7', 'result', { v: 'done' }));
    await expect(p).resolves.toBe('done');
    expect(c.logger.messages('debug').find((m) => m.startsWith('Re-watching'))).toMatch(
      /^Re-watching \/api\/v1\/namespaces\/w7\/configmaps in \d+ ms \(failure 1\/10\): Kubernetes API refused to watch ConfigMaps in namespace 'w7': 500 InternalError — the API server failed to answer, which is usually temporary: try again$/,
    );
  });

  it('an abort ends it at once, even while the watch request awaits its answer', async () => {
    // The answer would take an hour: returning at all means the abort ended the wait.
    const c = await freshCluster({ latencyMs: 3_600_000, pathPattern: /\/namespaces\/w8\/configmaps$/, watchOnly: true });
    const ac = new AbortController();
    const done = watchObjects({ client: c.client, path: '/api/v1/namespaces/w8/configmaps', signal: ac.signal });
    await c.logger.until((m) => m.some((x) => x.startsWith('WATCH /api/v1/namespaces/w8/configmaps')), 10_000, 'the watch request');
    ac.abort();
    await done;
  });

  it('starting from an explicit, compacted resourceVersion lists instead', async () => {
    const c = await freshCluster();
    await c.client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'w4' } });
    const first = await c.client.apply(cm('w4', 'x', { v: '1' }));
    await c.client.apply(cm('w4', 'x', { v: '2' }));
    c.server.watchHub.compact();
    const w = await startWatch(c, 'w4', { resourceVersion: first.metadata!.resourceVersion! });
    await w.syncs.until((s) => s.length === 1);
    expect(w.events.items.map((e) => [e.type, e.name, e.data?.v, e.synthetic])).toEqual([['ADDED', 'x', '2', true]]);
    w.ac.abort();
    await w.done;
  });

  it('given a resourceVersion and the objects at it, starts from them without a list, then replays what came after', async () => {
    const c = await freshCluster();
    await c.client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'w9' } });
    const x = await c.client.apply<V1ConfigMap>(cm('w9', 'x', { v: '1' }));
    // Changed before the watch starts: it must still see both, from x's version on.
    await c.client.apply(cm('w9', 'x', { v: '2' }));
    await c.client.apply(cm('w9', 'y', { v: '1' }));
    const lists = c.client.requestCounts().list ?? 0;
    const w = await startWatch(c, 'w9', { resourceVersion: x.metadata!.resourceVersion!, initial: [x] });
    await w.events.until((e) => e.length === 3);
    expect(w.syncs.items).toEqual([['x']]);
    expect(w.events.items.map((e) => [e.type, e.name, e.data?.v, e.synthetic])).toEqual([
      ['ADDED', 'x', '1', true],
      ['MODIFIED', 'x', '2', false],
      ['ADDED', 'y', '1', false],
    ]);
    expect(c.client.requestCounts().list ?? 0).toBe(lists);
    w.ac.abort();
    await w.done;
  });

  it('rejects with a KubeApiError when the collection does not exist', async () => {
    const c = await freshCluster();
    const p = watchObjects({ client: c.client, path: '/apis/batch/v1/namespaces/w5/cronwidgets', signal: new AbortController().signal });
    await expect(p).rejects.toBeInstanceOf(KubeApiError);
    await expect(p).rejects.toMatchObject({ verb: 'list', statusCode: 404 });
  });
});

describe('waitFor', () => {
  it('resolves with the first state that satisfies the predicate', async () => {
    const c = await freshCluster();
    await c.client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'wf1' } });
    await c.client.apply(cm('wf1', 'job', { phase: 'Running' }));
    const states: string[] = [];
    const p = waitFor<V1ConfigMap, string>({ client: c.client, path: '/api/v1/namespaces/wf1/configmaps', labelSelector: SELECTOR }, (objects) => {
      const phase = objects.get('job')?.data?.phase;
      if (phase) states.push(phase);
      return phase === 'Complete' || phase === 'Failed' ? phase : undefined;
    });
    await c.logger.until((m) => m.some((x) => x.startsWith('WATCH /api/v1/namespaces/wf1/configmaps')));
    await c.client.apply(cm('wf1', 'job', { phase: 'Succeeding' }));
    await c.client.apply(cm('wf1', 'job', { phase: 'Complete' }));
    await c.client.apply(cm('wf1', 'job', { phase: 'Failed' }));
    await expect(p).resolves.toBe('Complete');
    expect(states).toEqual(['Running', 'Succeeding', 'Complete']);
  });

  it('waitForObject resolves when the object is gone', async () => {
    const c = await freshCluster();
    await c.client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'wf2' } });
    await c.client.apply(cm('wf2', 'doomed', {}));
    await c.client.apply(cm('wf2', 'other', {}));
    const p = waitForObject<V1ConfigMap, true>({ client: c.client, path: '/api/v1/namespaces/wf2/configmaps', name: 'doomed' }, (o) => o === undefined);
    await c.logger.until((m) => m.some((x) => x.startsWith('WATCH /api/v1/namespaces/wf2/configmaps')));
    await c.client.delete('ConfigMap', 'wf2', 'other');
    await c.client.delete('ConfigMap', 'wf2', 'doomed');
    await expect(p).resolves.toBe(true);
  });

  it('rejects on timeout with the last state seen', async () => {
    const c = await freshCluster();
    await c.client.apply(cm('default', 'never', { phase: 'Running' }));
    const started = Date.now();
    const p = waitForObject<V1ConfigMap, true>(
      { client: c.client, path: '/api/v1/namespaces/default/configmaps', name: 'never' },
      (o) => o?.data?.phase === 'Complete',
      { timeoutMs: 300, description: "ConfigMap 'never' to complete" },
    );
    const e = await p.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(WaitTimeoutError);
    expect((e as Error).message).toBe("Timed out after 0 s waiting for ConfigMap 'never' to complete");
    expect([...(e as WaitTimeoutError<V1ConfigMap>).last.values()].map((o) => o.data?.phase)).toEqual(['Running']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('rejects with the abort reason when aborted, and closes its watch', async () => {
    const c = await freshCluster();
    const ac = new AbortController();
    const p = waitFor({ client: c.client, path: '/api/v1/namespaces/default/configmaps' }, () => undefined, { signal: ac.signal });
    await c.logger.until((m) => m.some((x) => x.startsWith('WATCH /api/v1/namespaces/default/configmaps')));
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    const aborted = new AbortController();
    aborted.abort(new Error('deploy cancelled'));
    await expect(waitFor({ client: c.client, path: '/api/v1/namespaces/default/configmaps' }, () => true, { signal: aborted.signal })).rejects.toThrow('deploy cancelled');
  });
});
