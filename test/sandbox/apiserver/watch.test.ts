import { CoreV1Api, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anyJson, startHarness, until, type Harness } from './helpers.js';

let h: Harness;
let core: CoreV1Api;

beforeAll(async () => {
  h = await startHarness({ watchHistorySize: 50, bookmarkIntervalMs: 200 });
  core = h.kc.makeApiClient(CoreV1Api);
});
afterAll(() => h.close());

interface Seen {
  events: { type: string; name?: string; rv?: string; obj: any }[];
  done?: unknown;
  ended: boolean;
  abort: AbortController;
}

async function watch(path: string, query: Record<string, string | number | boolean>): Promise<Seen> {
  const seen: Seen = { events: [], ended: false, abort: undefined as unknown as AbortController };
  seen.abort = await new Watch(h.kc).watch(
    path,
    query,
    (type, obj) => seen.events.push({ type, name: obj?.metadata?.name, rv: obj?.metadata?.resourceVersion, obj }),
    (err) => {
      seen.done = err;
      seen.ended = true;
    },
  );
  return seen;
}

const cm = (name: string, labels?: Record<string, string>) => ({ metadata: { name, labels } });

describe('watch', () => {
  it('without resourceVersion: synthetic ADDED for the current state, then live changes', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('w-1') });
    const w = await watch('/api/v1/namespaces/default/configmaps', { labelSelector: '' });
    await until(() => w.events.some((e) => e.name === 'w-1'));
    expect(w.events.every((e) => e.type === 'ADDED')).toBe(true);
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('w-2') });
    await core.deleteNamespacedConfigMap({ name: 'w-1', namespace: 'default' });
    await until(() => w.events.some((e) => e.type === 'DELETED' && e.name === 'w-1'));
    const live = w.events.filter((e) => e.name === 'w-2' || e.type === 'DELETED');
    expect(live.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED w-2', 'DELETED w-1']);
    w.abort.abort();
  });

  it('from a resourceVersion: every later change, in order, and nothing before', async () => {
    const a = await core.createNamespacedConfigMap({ namespace: 'default', body: cm('rv-a') });
    await core.patchNamespacedConfigMap({ name: 'rv-a', namespace: 'default', body: [{ op: 'add', path: '/data', value: { k: '1' } }] });
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('rv-b') });
    const w = await watch('/api/v1/namespaces/default/configmaps', { resourceVersion: a.metadata!.resourceVersion! });
    await until(() => w.events.length >= 2);
    expect(w.events.map((e) => `${e.type} ${e.name}`)).toEqual(['MODIFIED rv-a', 'ADDED rv-b']);
    const rvs = w.events.map((e) => Number(e.rv));
    expect(rvs[0]).toBeGreaterThan(Number(a.metadata!.resourceVersion));
    expect(rvs[1]).toBeGreaterThan(rvs[0]);
    w.abort.abort();
  });

  it('label selector transitions: leaving is DELETED, entering is ADDED', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('sel-x', { stage: 'train' }) });
    const w = await watch('/api/v1/namespaces/default/configmaps', { labelSelector: 'stage=train', resourceVersion: h.store.resourceVersion() });
    await core.patchNamespacedConfigMap({ name: 'sel-x', namespace: 'default', body: [{ op: 'replace', path: '/metadata/labels/stage', value: 'serve' }] });
    await core.patchNamespacedConfigMap({ name: 'sel-x', namespace: 'default', body: [{ op: 'replace', path: '/metadata/labels/stage', value: 'train' }] });
    await until(() => w.events.length >= 2);
    expect(w.events.map((e) => e.type)).toEqual(['DELETED', 'ADDED']);
    // The DELETED event carries the previous object (still matching) at the event's resourceVersion.
    expect(w.events[0].obj.metadata.labels.stage).toBe('train');
    // Deletions are filtered too: only the matching object's DELETED reaches this watcher.
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('sel-y', { stage: 'serve' }) });
    await core.deleteNamespacedConfigMap({ name: 'sel-y', namespace: 'default' });
    await core.deleteNamespacedConfigMap({ name: 'sel-x', namespace: 'default' });
    await until(() => w.events.length >= 3);
    await new Promise((r) => setTimeout(r, 50));
    expect(w.events.map((e) => `${e.type} ${e.name}`)).toEqual(['DELETED sel-x', 'ADDED sel-x', 'DELETED sel-x']);
    w.abort.abort();
  });

  it('watches one object by field selector across namespaces', async () => {
    const w = await watch('/api/v1/configmaps', { fieldSelector: 'metadata.name=only-me', resourceVersion: h.store.resourceVersion() });
    await core.createNamespacedConfigMap({ namespace: 'kube-public', body: cm('only-me') });
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('not-me') });
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('only-me') });
    await until(() => w.events.length >= 2);
    expect(w.events.map((e) => `${e.obj.metadata.namespace}/${e.name}`)).toEqual(['kube-public/only-me', 'default/only-me']);
    w.abort.abort();
  });

  it('a resourceVersion older than the history gets an ERROR event with 410 Expired, then the stream ends', async () => {
    const old = h.store.resourceVersion();
    for (let i = 0; i < 60; i++) await core.createNamespacedConfigMap({ namespace: 'default', body: cm(`flood-${i}`) });
    const w = await watch('/api/v1/namespaces/default/configmaps', { resourceVersion: old });
    await until(() => w.ended);
    expect(w.events).toHaveLength(1);
    expect(w.events[0].type).toBe('ERROR');
    expect(w.events[0].obj).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 });
    expect(w.events[0].obj.message).toMatch(new RegExp(`^too old resource version: ${old} \\(\\d+\\)$`));
    expect(w.done).toBeNull();
  });

  it('resumes after the server cuts the stream (timeoutSeconds), losing nothing', async () => {
    const start = h.store.resourceVersion();
    const w1 = await watch('/api/v1/namespaces/default/configmaps', { resourceVersion: start, timeoutSeconds: 1 });
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('cut-1') });
    await until(() => w1.ended);
    const last = w1.events.filter((e) => e.type !== 'BOOKMARK').at(-1)!.rv!;
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('cut-2') });
    const w2 = await watch('/api/v1/namespaces/default/configmaps', { resourceVersion: last });
    await until(() => w2.events.length >= 1);
    expect(w1.events.filter((e) => e.type === 'ADDED').map((e) => e.name)).toEqual(['cut-1']);
    expect(w2.events.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED cut-2']);
    w2.abort.abort();
  });

  it('a resourceVersion the server has not reached answers 504 ResourceVersionTooLarge after waiting', async () => {
    const future = Number(h.store.resourceVersion()) + 1000;
    const t0 = Date.now();
    const res = await h.fetch(`${h.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${future}`);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2900);
    expect(res.status).toBe(504);
    const st = await res.json().then(anyJson);
    expect(st).toMatchObject({ reason: 'Timeout', code: 504, details: { causes: [{ reason: 'ResourceVersionTooLarge' }] } });
    expect(st.message).toMatch(new RegExp(`^Too large resource version: ${future}, current: \\d+$`));
  });

  it('sends BOOKMARKs carrying only the resourceVersion when allowed', async () => {
    const w = await watch('/api/v1/namespaces/default/pods', { allowWatchBookmarks: true, resourceVersion: h.store.resourceVersion() });
    await until(() => w.events.some((e) => e.type === 'BOOKMARK'));
    const b = w.events.find((e) => e.type === 'BOOKMARK')!;
    expect(b.obj).toEqual({ kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: h.store.resourceVersion() } });
    w.abort.abort();
    const none = await watch('/api/v1/namespaces/default/services', { resourceVersion: h.store.resourceVersion(), timeoutSeconds: 1 });
    await until(() => none.ended);
    expect(none.events).toEqual([]);
  });

  it('sendInitialEvents: rejected without NotOlderThan/bookmarks; with them, state then an initial-events-end BOOKMARK', async () => {
    const res = await h.fetch(`${h.url}/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true`);
    expect(res.status).toBe(422);
    const body = await res.json().then(anyJson);
    expect(body.message).toBe(
      'ListOptions.meta.k8s.io "" is invalid: [resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan, allowWatchBookmarks: Forbidden: allowWatchBookmarks must be true if sendInitialEvents = true]',
    );
    const w = await watch('/api/v1/namespaces/kube-system/configmaps', { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true });
    await until(() => w.events.some((e) => e.type === 'BOOKMARK'));
    expect(w.events[0]).toMatchObject({ type: 'ADDED', name: 'kube-root-ca.crt' });
    expect(w.events[1].obj.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
    w.abort.abort();
  });

  it('writes newline-delimited JSON with application/json', async () => {
    const ac = new AbortController();
    const res = await h.fetch(`${h.url}/api/v1/namespaces/kube-system/serviceaccounts?watch=1`, { signal: ac.signal });
    expect(res.headers.get('content-type')).toBe('application/json');
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('\n')) text += new TextDecoder().decode((await reader.read()).value);
    expect(JSON.parse(text.split('\n')[0])).toMatchObject({ type: 'ADDED', object: { kind: 'ServiceAccount', metadata: { name: 'default' } } });
    ac.abort();
  });
});

describe('in-process subscribers', () => {
  it('see every commit once, in commit order, even when a subscriber writes from its callback', async () => {
    const a: string[] = [];
    const b: string[] = [];
    const offA = h.store.subscribe((ev) => {
      a.push(`${ev.type} ${ev.object.metadata.name} ${ev.object.metadata.resourceVersion}`);
      // A controller reacting to ADDED by writing (nested commit).
      if (ev.type === 'ADDED' && ev.object.metadata.name === 'sub-1') {
        h.store.create('configmaps', 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'sub-2' } });
      }
    });
    const offB = h.store.subscribe((ev) => b.push(`${ev.type} ${ev.object.metadata.name} ${ev.object.metadata.resourceVersion}`));
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('sub-1') });
    await core.deleteNamespacedConfigMap({ name: 'sub-1', namespace: 'default' });
    offA();
    offB();
    const mine = (l: string[]) => l.filter((x) => x.includes(' sub-'));
    expect(mine(a).map((x) => x.split(' ').slice(0, 2).join(' '))).toEqual(['ADDED sub-1', 'ADDED sub-2', 'DELETED sub-1']);
    expect(mine(b)).toEqual(mine(a));
    const rvs = mine(a).map((x) => Number(x.split(' ')[2]));
    expect([...rvs].sort((x, y) => x - y)).toEqual(rvs);
  });
});

describe('a server stopping with watches open', () => {
  it('ends them without writing after their end (a bookmark timer due at that moment stays quiet)', async () => {
    // Bookmarks every millisecond: one is always due while the server ends the watches.
    const own = await startHarness({ bookmarkIntervalMs: 1 });
    const ownCore = own.kc.makeApiClient(CoreV1Api);
    const rv = (await ownCore.listNamespacedPod({ namespace: 'default' })).metadata?.resourceVersion;
    const streams = await Promise.all(
      Array.from({ length: 20 }, async () => {
        let bookmarks = 0;
        const abort = await new Watch(own.kc).watch('/api/v1/namespaces/default/pods', { allowWatchBookmarks: true, resourceVersion: rv }, (type) => void (type === 'BOOKMARK' && bookmarks++), () => {});
        return { abort, bookmarks: () => bookmarks };
      }),
    );
    await until(() => streams.every((st) => st.bookmarks() > 0));
    // A write after the end would be an uncaught exception here, failing this file.
    await own.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const st of streams) st.abort.abort();
  });
});
