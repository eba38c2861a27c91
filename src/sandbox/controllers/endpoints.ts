/**
 * Endpoints controller (K pkg/controller/endpoint/endpoints_controller.go syncService; K pkg/api/v1/endpoints
 * RepackSubsets). For every Service with a selector, an Endpoints object of the same name lists the matching pods:
 * Ready pods in `addresses`, the others in `notReadyAddresses` (all in `addresses` with publishNotReadyAddresses),
 * ports resolved from each Service port's targetPort (a number, or a container port name looked up per pod).
 * Pods without an IP, terminal pods and pods being deleted are left out, as upstream does by default.
 */
import type { ClusterStore, KubeObject, StoreEvent } from '../types.js';
import { selectorMatches } from '../machinery/labels.js';
import type { Clock } from '../machinery/clock.js';
import { QueueController } from '../machinery/controller.js';
import type { LogFn } from '../machinery/log.js';
import { canonicalJSON, deepEqual, keyOf, splitKey } from '../machinery/objects.js';
import { isPodReady, isTerminal } from '../machinery/pods.js';

export interface EndpointsControllerOptions {
  log?: LogFn;
  /** Time for retries (default the system clock). */
  clock?: Clock;
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

export class EndpointsController extends QueueController {
  constructor(store: ClusterStore, opts: EndpointsControllerOptions = {}) {
    super(store, 'endpoint-controller', opts);
  }

  protected initialKeys(): string[] {
    if (!this.store.resources.some((r) => r.group === '' && r.resource === 'endpoints')) return [];
    return this.store.view('services', undefined).map(keyOf);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Event handlers

  protected handle(ev: StoreEvent): void {
    if (ev.key === 'services') this.onService(ev);
    else if (ev.key === 'pods') {
      const keys = new Set(this.servicesFor(ev.object));
      if (ev.old) for (const k of this.servicesFor(ev.old)) keys.add(k);
      for (const k of keys) this.queue.add(k);
    }
  }

  private onService(ev: StoreEvent): void {
    if (ev.type !== 'DELETED') return this.queue.add(keyOf(ev.object));
    // endpoints_controller.go: the Endpoints of a deleted service are deleted.
    const { namespace, name } = ev.object.metadata;
    setImmediate(() => {
      try {
        if (!this.store.peek('services', namespace, name!)) this.store.delete('endpoints', namespace, name!);
      } catch {
        /* already gone */
      }
    });
  }

  private servicesFor(pod: KubeObject): string[] {
    return this.store
      .view('services', pod.metadata.namespace)
      .filter((s) => s.spec?.selector && selectorMatches({ matchLabels: s.spec.selector }, pod.metadata.labels))
      .map((s) => keyOf(s));
  }

  // -------------------------------------------------------------------------------------------------------------

  /** syncService. */
  protected sync(key: string): void {
    const [ns, name] = splitKey(key);
    const svc = this.store.peek('services', ns, name);
    if (!svc || !svc.spec?.selector || svc.metadata.deletionTimestamp) return;
    const subsets = this.subsets(svc);
    const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
    if (svc.spec.clusterIP === 'None') labels['service.kubernetes.io/headless'] = '';
    const existing = this.store.find('endpoints', ns, name);
    if (!existing) {
      const ep: KubeObject = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: ns, labels } };
      if (subsets.length) ep.subsets = subsets;
      this.store.create('endpoints', ns, ep);
      return;
    }
    if (deepEqual(existing.subsets ?? [], subsets) && deepEqual(existing.metadata.labels ?? {}, labels)) return;
    existing.metadata.labels = labels;
    if (subsets.length) existing.subsets = subsets;
    else delete existing.subsets;
    this.store.update('endpoints', ns, name, existing);
  }

  /** The Service's pods as subsets, grouped by their resolved port set (RepackSubsets). */
  private subsets(svc: KubeObject): any[] {
    const ns = svc.metadata.namespace!;
    const publishNotReady = svc.spec.publishNotReadyAddresses === true;
    const groups = new Map<string, { ports: any[]; addresses: any[]; notReadyAddresses: any[] }>();
    const pods = this.store.view('pods', ns).filter(
      (p) => selectorMatches({ matchLabels: svc.spec.selector }, p.metadata.labels) && p.status?.podIP && !isTerminal(p) && !p.metadata.deletionTimestamp,
    );
    for (const pod of pods) {
      const ports = podPorts(svc, pod);
      if ((svc.spec.ports ?? []).length && !ports.length) continue;
      const gk = canonicalJSON(ports);
      const g = groups.get(gk) ?? { ports, addresses: [], notReadyAddresses: [] };
      groups.set(gk, g);
      const addr: any = { ip: pod.status.podIP, nodeName: pod.spec?.nodeName, targetRef: { kind: 'Pod', namespace: ns, name: pod.metadata.name, uid: pod.metadata.uid } };
      if (!addr.nodeName) delete addr.nodeName;
      if (publishNotReady || isPodReady(pod)) g.addresses.push(addr);
      else g.notReadyAddresses.push(addr);
    }
    const byIP = (a: any, b: any): number => a.ip.localeCompare(b.ip) || a.targetRef.name.localeCompare(b.targetRef.name);
    return [...groups.values()].map((g) => {
      const s: any = {};
      if (g.addresses.length) s.addresses = g.addresses.sort(byIP);
      if (g.notReadyAddresses.length) s.notReadyAddresses = g.notReadyAddresses.sort(byIP);
      if (g.ports.length) s.ports = g.ports;
      return s;
    });
  }
}

/** The Service's ports as resolved for one pod, sorted. */
function podPorts(svc: KubeObject, pod: KubeObject): any[] {
  const ports: any[] = [];
  for (const sp of svc.spec.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const ep: any = { port, protocol: sp.protocol ?? 'TCP' };
    if (sp.name) ep.name = sp.name;
    if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
    ports.push(ep);
  }
  return ports.sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port);
}
