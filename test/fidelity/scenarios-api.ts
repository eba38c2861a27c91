/**
 * Fidelity scenarios of the API machinery: error Status bodies, server-side apply conflicts, watches. Each answers
 * the observable result as a flat record, so two control planes can be compared field by field.
 */
import type { Scenario } from './scenario.js';

const cm = (ns: string, name: string, data: Record<string, string> = { k: 'v' }) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns },
  data,
});

/** The parts of a Status that clients act on. */
function status(rsp: { status: number; body: any }): Record<string, unknown> {
  const b = rsp.body ?? {};
  return {
    http: rsp.status,
    kind: b.kind,
    status: b.status,
    reason: b.reason,
    code: b.code,
    'details.kind': b.details?.kind,
    'details.name': b.details?.name,
    message: b.message,
  };
}

export const apiScenarios: Scenario[] = [
  {
    name: '404 get of a missing object',
    run: async (api, ns) => status(await api.get(`/api/v1/namespaces/${ns}/configmaps/nope`)),
  },
  {
    name: '404 create in a missing namespace',
    run: async (api, ns) => status(await api.post(`/api/v1/namespaces/${ns}-missing/configmaps`, cm(`${ns}-missing`, 'a'))),
  },
  {
    name: '409 AlreadyExists on a second create',
    run: async (api, ns) => {
      await api.post(`/api/v1/namespaces/${ns}/configmaps`, cm(ns, 'a'));
      return status(await api.post(`/api/v1/namespaces/${ns}/configmaps`, cm(ns, 'a')));
    },
  },
  {
    name: '409 Conflict on an update with a stale resourceVersion',
    run: async (api, ns) => {
      const first = await api.post(`/api/v1/namespaces/${ns}/configmaps`, cm(ns, 'a'));
      await api.put(`/api/v1/namespaces/${ns}/configmaps/a`, { ...first.body, data: { k: 'v2' } });
      return status(await api.put(`/api/v1/namespaces/${ns}/configmaps/a`, { ...first.body, data: { k: 'v3' } }));
    },
  },
  {
    name: '422 Invalid name, with its causes',
    run: async (api, ns) => {
      const rsp = await api.post(`/api/v1/namespaces/${ns}/configmaps`, cm(ns, 'Bad_Name'));
      const causes = (rsp.body?.details?.causes ?? []).map((c: any) => `${c.reason} ${c.field}`).join('; ');
      return { ...status(rsp), message: undefined, causes };
    },
  },
  {
    name: 'watch from resourceVersion 1 on a fresh cluster: the history since, not 410',
    run: async (api, ns) => {
      // Nothing is compacted yet (etcd compacts every 5 min; the sandbox's history starts with its first object). A
      // 410 Expired for an older version is checked on the sandbox alone (its history can be cut at will).
      await api.post(`/api/v1/namespaces/${ns}/configmaps`, cm(ns, 'a'));
      await api.put(`/api/v1/namespaces/${ns}/configmaps/a`, cm(ns, 'a', { k: 'v2' }));
      await api.del(`/api/v1/namespaces/${ns}/configmaps/a`);
      await api.post(`/api/v1/namespaces/${ns}/configmaps`, cm(ns, 'b'));
      const w = await api.watch(`/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=1`);
      const http = await w.status;
      await Promise.race([w.until((e) => e.some((x) => x.object?.metadata?.name === 'b' || x.type === 'ERROR'), 10_000).catch(() => {}), w.closed]);
      w.close();
      // Ours only: the controller-made kube-root-ca.crt may come before or after them.
      const ours = w.events.filter((e) => e.type === 'ERROR' || ['a', 'b'].includes(e.object?.metadata?.name));
      return { http, events: ours.map((e) => `${e.type} ${e.object?.metadata?.name ?? e.object?.reason}`).join(', ') };
    },
  },
  {
    name: 'server-side apply: a conflict, then force',
    run: async (api, ns) => {
      const path = `/api/v1/namespaces/${ns}/configmaps/applied`;
      const a = await api.apply(path, cm(ns, 'applied', { x: '1' }), 'alpha');
      const conflict = await api.apply(path, cm(ns, 'applied', { x: '2' }), 'beta');
      const forced = await api.apply(path, cm(ns, 'applied', { x: '2' }), 'beta', true);
      const managers = (forced.body?.metadata?.managedFields ?? []).map((f: any) => `${f.manager}:${f.operation}`).sort();
      return {
        'first http': a.status,
        'conflict http': conflict.status,
        'conflict reason': conflict.body?.reason,
        'conflict causes': (conflict.body?.details?.causes ?? []).map((c: any) => `${c.type} ${c.field}`).join('; '),
        'conflict message': conflict.body?.message,
        'force http': forced.status,
        'after force x': forced.body?.data?.x,
        managers: managers.join(','),
      };
    },
  },
  {
    name: 'watch resumed from the last resourceVersion',
    run: async (api, ns) => {
      const coll = `/api/v1/namespaces/${ns}/configmaps`;
      const list = await api.get(coll);
      const w1 = await api.watch(`${coll}?watch=true&resourceVersion=${list.body.metadata.resourceVersion}`);
      await api.post(coll, cm(ns, 'one'));
      await w1.until((e) => e.some((x) => x.object?.metadata?.name === 'one'));
      w1.close();
      const last = w1.events.at(-1)!.object.metadata.resourceVersion;
      await api.post(coll, cm(ns, 'two'));
      const w2 = await api.watch(`${coll}?watch=true&resourceVersion=${last}`);
      await w2.until((e) => e.some((x) => x.object?.metadata?.name === 'two'));
      w2.close();
      const seen = (w: typeof w1) => w.events.map((e) => `${e.type} ${e.object?.metadata?.name}`).join(', ');
      return { 'first watch': seen(w1), 'resumed watch': seen(w2) };
    },
  },
  {
    name: 'watch-list: initial events, then the initial-events-end bookmark',
    run: async (api, ns) => {
      const coll = `/api/v1/namespaces/${ns}/configmaps`;
      await api.post(coll, cm(ns, 'a'));
      await api.post(coll, cm(ns, 'b'));
      const w = await api.watch(`${coll}?watch=true&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=`);
      const http = await w.status;
      await w.until((e) => e.some((x) => x.type === 'BOOKMARK'), 15_000).catch(() => {});
      w.close();
      const bookmark = w.events.find((e) => e.type === 'BOOKMARK');
      return {
        http,
        'events before the bookmark': w.events
          .slice(0, bookmark ? w.events.indexOf(bookmark) : undefined)
          .map((e) => `${e.type} ${e.object?.metadata?.name}`)
          .sort()
          .join(', '),
        'bookmark annotation': bookmark?.object?.metadata?.annotations?.['k8s.io/initial-events-end'],
        'bookmark has a resourceVersion': Boolean(bookmark?.object?.metadata?.resourceVersion),
      };
    },
  },
];
