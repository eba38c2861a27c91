/**
 * Server-side printing: `meta.k8s.io/v1` Table answers for clients that ask for them
 * (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, as `kubectl get` does). Columns and cell rules follow
 * the upstream printers (K pkg/printers/internalversion/printers.go); ages use HumanDuration
 * (AM pkg/util/duration/duration.go).
 */
import type { KubeObject, ResourceType } from '../types.js';
import { keyOf } from './resources.js';

interface Column {
  name: string;
  type: 'string' | 'integer' | 'date' | 'number' | 'boolean';
  format: string;
  description: string;
  priority: number;
}

type Cell = string | number | boolean;

const col = (name: string, type: Column['type'] = 'string', priority = 0, format = ''): Column => ({ name, type, format, description: name, priority });
const NAME = col('Name', 'string', 0, 'name');
const AGE = col('Age');

/** HumanDuration: `42s`, `3m20s`, `25m`, `5h7m`, `30h`, `3d4h`, `120d`, `2y10d`. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

function since(ts: string | undefined, now: number): string {
  if (!ts) return '<unknown>';
  return humanDuration(now - Date.parse(ts));
}

function podStatus(p: KubeObject): { ready: string; status: string; restarts: string } {
  const st = p.status ?? {};
  let reason: string = st.reason || st.phase || 'Unknown';
  const cs: any[] = st.containerStatuses ?? [];
  const total = (p.spec?.containers ?? []).length;
  let ready = 0;
  let restarts = 0;
  let lastRestart = 0;
  const initCount = (p.spec?.initContainers ?? []).length;
  let initializing = false;
  (st.initContainerStatuses ?? []).forEach((c: any, i: number) => {
    restarts += c.restartCount ?? 0;
    if (initializing) return;
    const t = c.state?.terminated;
    const w = c.state?.waiting;
    if (t && t.exitCode === 0) return;
    if (c.started && c.state?.running && p.spec?.initContainers?.[i]?.restartPolicy === 'Always') return;
    if (t) reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    else if (w?.reason && w.reason !== 'PodInitializing') reason = `Init:${w.reason}`;
    else reason = `Init:${i}/${initCount}`;
    initializing = true;
  });
  if (!initializing) {
    let hasRunning = false;
    for (const c of [...cs].reverse()) {
      restarts += c.restartCount ?? 0;
      const lt = c.lastState?.terminated?.finishedAt;
      if (lt) lastRestart = Math.max(lastRestart, Date.parse(lt));
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
      else if (c.state?.terminated) reason = c.state.terminated.signal ? `Signal:${c.state.terminated.signal}` : `ExitCode:${c.state.terminated.exitCode}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      const readyCond = (st.conditions ?? []).find((c: any) => c.type === 'Ready');
      reason = readyCond?.status === 'True' ? 'Running' : 'NotReady';
    }
  }
  if (p.metadata.deletionTimestamp) reason = st.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  const r = lastRestart ? `${restarts} (${humanDuration(Date.now() - lastRestart)} ago)` : String(restarts);
  return { ready: `${ready}/${total}`, status: reason, restarts: r };
}

function servicePorts(s: KubeObject): string {
  const ports: any[] = s.spec?.ports ?? [];
  if (!ports.length) return '<none>';
  return ports.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`)).join(',');
}

function endpointsText(e: KubeObject): string {
  const all: string[] = [];
  for (const s of e.subsets ?? []) for (const a of s.addresses ?? []) for (const p of s.ports ?? [{}]) all.push(p.port ? `${a.ip}:${p.port}` : a.ip);
  if (!all.length) return '<none>';
  return all.length > 3 ? `${all.slice(0, 3).join(',')} + ${all.length - 3} more...` : all.join(',');
}

function jobStatus(j: KubeObject): string {
  const conds: any[] = j.status?.conditions ?? [];
  const has = (t: string) => conds.some((c) => c.type === t && c.status === 'True');
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (j.spec?.suspend && has('Suspended')) return 'Suspended';
  if (has('FailureTarget')) return 'FailureTarget';
  if (has('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

function jobCompletions(j: KubeObject): string {
  const succeeded = j.status?.succeeded ?? 0;
  if (j.spec?.completions != null) return `${succeeded}/${j.spec.completions}`;
  const par = j.spec?.parallelism ?? 0;
  return par > 1 ? `${succeeded}/1 of ${par}` : `${succeeded}/1`;
}

function jobDuration(j: KubeObject, now: number): string {
  const start = j.status?.startTime;
  if (!start) return '';
  const end = j.status?.completionTime ? Date.parse(j.status.completionTime) : now;
  return humanDuration(end - Date.parse(start));
}

interface Printer {
  columns: Column[];
  cells(o: KubeObject, now: number): Cell[];
}

const PRINTERS: Record<string, Printer> = {
  pods: {
    columns: [NAME, col('Ready'), col('Status'), col('Restarts', 'string'), AGE, col('IP', 'string', 1), col('Node', 'string', 1), col('Nominated Node', 'string', 1), col('Readiness Gates', 'string', 1)],
    cells: (o, now) => {
      const s = podStatus(o);
      const gates: any[] = o.spec?.readinessGates ?? [];
      return [o.metadata.name!, s.ready, s.status, s.restarts, since(o.metadata.creationTimestamp, now), o.status?.podIP || '<none>', o.spec?.nodeName || '<none>', o.status?.nominatedNodeName || '<none>', gates.length ? `0/${gates.length}` : '<none>'];
    },
  },
  'apps/deployments': {
    columns: [NAME, col('Ready'), col('Up-to-date', 'integer'), col('Available', 'integer'), AGE, col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)],
    cells: (o, now) => [
      o.metadata.name!,
      `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`,
      o.status?.updatedReplicas ?? 0,
      o.status?.availableReplicas ?? 0,
      since(o.metadata.creationTimestamp, now),
      (o.spec?.template?.spec?.containers ?? []).map((c: any) => c.name).join(','),
      (o.spec?.template?.spec?.containers ?? []).map((c: any) => c.image).join(','),
      Object.entries(o.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
    ],
  },
  'apps/replicasets': {
    columns: [NAME, col('Desired', 'integer'), col('Current', 'integer'), col('Ready', 'integer'), AGE],
    cells: (o, now) => [o.metadata.name!, o.spec?.replicas ?? 0, o.status?.replicas ?? 0, o.status?.readyReplicas ?? 0, since(o.metadata.creationTimestamp, now)],
  },
  'batch/jobs': {
    columns: [NAME, col('Status'), col('Completions'), col('Duration'), AGE],
    cells: (o, now) => [o.metadata.name!, jobStatus(o), jobCompletions(o), jobDuration(o, now), since(o.metadata.creationTimestamp, now)],
  },
  'batch/cronjobs': {
    columns: [NAME, col('Schedule'), col('Timezone'), col('Suspend', 'boolean'), col('Active', 'integer'), col('Last Schedule'), AGE, col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)],
    cells: (o, now) => {
      const cs: any[] = o.spec?.jobTemplate?.spec?.template?.spec?.containers ?? [];
      return [
        o.metadata.name!,
        o.spec?.schedule ?? '',
        o.spec?.timeZone ?? '<none>',
        o.spec?.suspend ? 'True' : 'False',
        (o.status?.active ?? []).length,
        o.status?.lastScheduleTime ? since(o.status.lastScheduleTime, now) : '<none>',
        since(o.metadata.creationTimestamp, now),
        cs.map((c) => c.name).join(','),
        cs.map((c) => c.image).join(','),
        Object.entries(o.spec?.jobTemplate?.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>',
      ];
    },
  },
  services: {
    columns: [NAME, col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), AGE, col('Selector', 'string', 1)],
    cells: (o, now) => {
      const lb: any[] = o.status?.loadBalancer?.ingress ?? [];
      const ext = [...(o.spec?.externalIPs ?? []), ...lb.map((i) => i.ip || i.hostname)];
      const external = o.spec?.type === 'ExternalName' ? o.spec.externalName : ext.length ? ext.join(',') : o.spec?.type === 'LoadBalancer' ? '<pending>' : '<none>';
      const sel = Object.entries(o.spec?.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>';
      return [o.metadata.name!, o.spec?.type ?? 'ClusterIP', o.spec?.clusterIP || '<none>', external, servicePorts(o), since(o.metadata.creationTimestamp, now), sel];
    },
  },
  namespaces: { columns: [NAME, col('Status'), AGE], cells: (o, now) => [o.metadata.name!, o.status?.phase ?? '', since(o.metadata.creationTimestamp, now)] },
  configmaps: {
    columns: [NAME, col('Data', 'integer'), AGE],
    cells: (o, now) => [o.metadata.name!, Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length, since(o.metadata.creationTimestamp, now)],
  },
  secrets: {
    columns: [NAME, col('Type'), col('Data', 'integer'), AGE],
    cells: (o, now) => [o.metadata.name!, o.type ?? 'Opaque', Object.keys(o.data ?? {}).length, since(o.metadata.creationTimestamp, now)],
  },
  serviceaccounts: { columns: [NAME, col('Secrets', 'integer'), AGE], cells: (o, now) => [o.metadata.name!, (o.secrets ?? []).length, since(o.metadata.creationTimestamp, now)] },
  endpoints: { columns: [NAME, col('Endpoints'), AGE], cells: (o, now) => [o.metadata.name!, endpointsText(o), since(o.metadata.creationTimestamp, now)] },
  nodes: {
    columns: [NAME, col('Status'), col('Roles'), AGE, col('Version'), col('Internal-IP', 'string', 1)],
    cells: (o, now) => {
      const ready = (o.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
      let status = ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown';
      if (o.spec?.unschedulable) status += ',SchedulingDisabled';
      const roles = Object.keys(o.metadata.labels ?? {})
        .filter((k) => k.startsWith('node-role.kubernetes.io/'))
        .map((k) => k.slice('node-role.kubernetes.io/'.length));
      const ip = (o.status?.addresses ?? []).find((a: any) => a.type === 'InternalIP')?.address ?? '<none>';
      return [o.metadata.name!, status, roles.join(',') || '<none>', since(o.metadata.creationTimestamp, now), o.status?.nodeInfo?.kubeletVersion ?? '', ip];
    },
  },
  events: {
    columns: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Message'), col('Source', 'string', 1), col('First Seen', 'string', 1), col('Count', 'integer', 1), col('Name', 'string', 1)],
    cells: (o, now) => {
      const last = o.series?.lastObservedTime ?? o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp;
      const first = o.firstTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp;
      const io = o.involvedObject ?? {};
      return [since(last, now), o.type ?? '', o.reason ?? '', `${String(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`, String(o.message ?? '').trim(), o.source?.component ?? o.reportingComponent ?? '', since(first, now), o.series?.count ?? o.count ?? 1, o.metadata.name!];
    },
  },
  'networking.k8s.io/ingresses': {
    columns: [NAME, col('Class'), col('Hosts'), col('Address'), col('Ports'), AGE],
    cells: (o, now) => {
      const hosts = (o.spec?.rules ?? []).map((r: any) => r.host).filter(Boolean);
      const addr = (o.status?.loadBalancer?.ingress ?? []).map((i: any) => i.ip || i.hostname).join(',');
      return [o.metadata.name!, o.spec?.ingressClassName ?? '<none>', hosts.join(',') || '*', addr, (o.spec?.tls ?? []).length ? '80, 443' : '80', since(o.metadata.creationTimestamp, now)];
    },
  },
  'coordination.k8s.io/leases': { columns: [NAME, col('Holder'), AGE], cells: (o, now) => [o.metadata.name!, o.spec?.holderIdentity ?? '', since(o.metadata.creationTimestamp, now)] },
  'rbac.authorization.k8s.io/rolebindings': {
    columns: [NAME, col('Role'), AGE],
    cells: (o, now) => [o.metadata.name!, `${o.roleRef?.kind ?? ''}/${o.roleRef?.name ?? ''}`, since(o.metadata.creationTimestamp, now)],
  },
  'rbac.authorization.k8s.io/clusterrolebindings': {
    columns: [NAME, col('Role'), AGE],
    cells: (o, now) => [o.metadata.name!, `${o.roleRef?.kind ?? ''}/${o.roleRef?.name ?? ''}`, since(o.metadata.creationTimestamp, now)],
  },
};

/** Types without a dedicated printer get the default table (name + creation time), as upstream. */
const DEFAULT_PRINTER: Printer = {
  columns: [NAME, col('Created At', 'date')],
  cells: (o) => [o.metadata.name!, o.metadata.creationTimestamp ?? ''],
};

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** Whether an Accept header asks for a meta.k8s.io/v1 Table before anything else it accepts. */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  const first = accept.split(',')[0] ?? '';
  const params = Object.fromEntries(
    first
      .split(';')
      .slice(1)
      .map((p) => p.trim().split('=') as [string, string]),
  );
  return params.as === 'Table' && params.g === 'meta.k8s.io' && (params.v === 'v1' || params.v === 'v1beta1');
}

export function toTable(r: ResourceType, objects: KubeObject[], opts: { includeObject?: IncludeObject; resourceVersion?: string; now?: number } = {}): KubeObject {
  const printer = PRINTERS[keyOf(r)] ?? DEFAULT_PRINTER;
  const now = opts.now ?? Date.now();
  const include = opts.includeObject ?? 'Metadata';
  const rows = objects.map((o) => {
    const row: Record<string, unknown> = { cells: printer.cells(o, now) };
    if (include === 'Object') row.object = o;
    else if (include === 'Metadata') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
    return row;
  });
  const table: KubeObject = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {}, columnDefinitions: printer.columns, rows };
  if (opts.resourceVersion) table.metadata = { resourceVersion: opts.resourceVersion } as KubeObject['metadata'];
  return table;
}
