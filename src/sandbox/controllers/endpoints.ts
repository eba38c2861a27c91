/**
 * Endpoints controller (K pkg/controller/endpoint/endpoints_controller.go syncService; K pkg/api/v1/endpoints
 * RepackSubsets). For every Service with a selector, an Endpoints object of the same name lists the matching pods:
 * Ready pods in `addresses`, the others in `notReadyAddresses` (all in `addresses` with publishNotReadyAddresses),
 * ports resolved from each Service port's targetPort (a number, or a container port name looked up per pod).
 * Pods without an IP, terminal pods and pods being deleted are left out, as upstream does by default.
 */
import type { ClusterStore, KubeObject, StoreEvent } from '../types.js';
import { selectorMatches } from '../machinery/labels.js';
import type { LogFn } from '../machinery/log.js';
import { canonicalJSON, deepEqual, splitKey } from '../machinery/objects.js';
import { isPodReady, isTerminal } from '../machinery/pods.js';
import { WorkQueue } from '../machinery/workqueue.js';

export interface EndpointsControllerOptions {
  log?: LogFn;
}

function findPort(pod: KubeObject, sp: any): number | undefined {
  const tp = sp.targetPort ?? sp.port;
  if (typeof tp === 'number') return tp;
  const n = Number(tp);
  if (tp !== '' && Number.isInteger(n)) return n;
  for (const c of pod.spec?.containers ?? [])
    for (const p of c.ports ?? []) if (p.name === tp && (p.protocol ?? 'TCP') === (sp.protocol ?? 'TCP')) return p.containerPort;
  return undefined;
}

export function startEndpointsController(store: ClusterStore, opts: EndpointsControllerOptions = {}): { stop(): Promise<void> } {
  const queue = new WorkQueue((key) => sync(key), { name: 'endpoint-controller', log: opts.log });

  function sync(key: string): void {
    const [ns, name] = splitKey(key);
    const svc = store.find('services', ns, name);
    if (!svc || !svc.spec?.selector || svc.metadata.deletionTimestamp) return; // GC removes Endpoints of deleted services? upstream deletes them here
    const publishNotReady = svc.spec.publishNotReadyAddresses === true;
    // Group addresses by their resolved port set (RepackSubsets).
    const groups = new Map<string, { ports: any[]; addresses: any[]; notReadyAddresses: any[] }>();
    const pods = store.list('pods', ns).items.filter(
      (p) => selectorMatches({ matchLabels: svc.spec.selector }, p.metadata.labels) && p.status?.podIP && !isTerminal(p) && !p.metadata.deletionTimestamp,
    );
    for (const pod of pods) {
      const ports: any[] = [];
      for (const sp of svc.spec.ports ?? []) {
        const port = findPort(pod, sp);
        if (port === undefined) continue;
        const ep: any = { port, protocol: sp.protocol ?? 'TCP' };
        if (sp.name) ep.name = sp.name;
        if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
        ports.push(ep);
      }
      if ((svc.spec.ports ?? []).length && !ports.length) continue;
      ports.sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port);
      const gk = canonicalJSON(ports);
      const g = groups.get(gk) ?? { ports, addresses: [], notReadyAddresses: [] };
      groups.set(gk, g);
      const addr: any = {
        ip: pod.status.podIP,
        nodeName: pod.spec?.nodeName,
        targetRef: { kind: 'Pod', namespace: ns, name: pod.metadata.name, uid: pod.metadata.uid },
      };
      if (!addr.nodeName) delete addr.nodeName;
      if (publishNotReady || isPodReady(pod)) g.addresses.push(addr);
      else g.notReadyAddresses.push(addr);
    }
    const byIP = (a: any, b: any): number => a.ip.localeCompare(b.ip) || a.targetRef.name.localeCompare(b.targetRef.name);
    const subsets = [...groups.values()].map((g) => {
      const s: any = {};
      if (g.addresses.length) s.addresses = g.addresses.sort(byIP);
      if (g.notReadyAddresses.length) s.notReadyAddresses = g.notReadyAddresses.sort(byIP);
      if (g.ports.length) s.ports = g.ports;
      return s;
    });
    const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
    if (svc.spec.clusterIP === 'None') labels['service.kubernetes.io/headless'] = '';
    const existing = store.find('endpoints', ns, name);
    if (!existing) {
      const ep: KubeObject = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: ns, labels } };
      if (subsets.length) ep.subsets = subsets;
      store.create('endpoints', ns, ep);
      return;
    }
    if (deepEqual(existing.subsets ?? [], subsets) && deepEqual(existing.metadata.labels ?? {}, labels)) return;
    existing.metadata.labels = labels;
    if (subsets.length) existing.subsets = subsets;
    else delete existing.subsets;
    store.update('endpoints', ns, name, existing);
  }

  const servicesFor = (pod: KubeObject): string[] =>
    store
      .list('services', pod.metadata.namespace)
      .items.filter((s) => s.spec?.selector && selectorMatches({ matchLabels: s.spec.selector }, pod.metadata.labels))
      .map((s) => `${s.metadata.namespace}/${s.metadata.name}`);

  const unsubscribe = store.subscribe((ev: StoreEvent) => {
    if (ev.key === 'services') {
      const key = `${ev.object.metadata.namespace}/${ev.object.metadata.name}`;
      if (ev.type === 'DELETED') {
        // endpoints_controller.go: the Endpoints of a deleted service are deleted.
        setImmediate(() => {
          try {
            if (!store.find('services', ev.object.metadata.namespace, ev.object.metadata.name!)) store.delete('endpoints', ev.object.metadata.namespace, ev.object.metadata.name!);
          } catch {
            /* already gone */
          }
        });
      } else queue.add(key);
    } else if (ev.key === 'pods') {
      const keys = new Set(servicesFor(ev.object));
      if (ev.old) for (const k of servicesFor(ev.old)) keys.add(k);
      for (const k of keys) queue.add(k);
    }
  });
  if (store.resources.some((r) => r.group === '' && r.resource === 'endpoints'))
    for (const s of store.list('services', undefined).items) queue.add(`${s.metadata.namespace}/${s.metadata.name}`);
  return {
    async stop() {
      unsubscribe();
      await queue.stop();
    },
  };
}
