/**
 * What a pod sees of cluster naming: its own /etc/hosts (upstream's kubelet-managed hosts file, plus one line per
 * Service in place of cluster DNS), /etc/resolv.conf, and the Docker-link style service environment variables
 * (K pkg/kubelet/kubelet_pods.go getServiceEnvVarMap, K pkg/kubelet/envvars/envvars.go FromServices).
 *
 * Why /etc/hosts rather than a DNS server: every resolver the pods use (glibc getaddrinfo for Python, Node, curl,
 * wget) reads /etc/hosts first ("hosts: files dns"), the file is rewritten in place (same inode, so the bind mount
 * inside running containers sees it) whenever Services change, and nothing has to listen on UDP 53 or be kept
 * alive. What it cannot do: search-domain expansion of arbitrary names, SRV records, and per-pod records of
 * headless Services (those resolve to nothing here).
 */
import type { ObjectReader } from '../node/view.js';
import type { KubeObject } from '../types.js';

export const CLUSTER_DOMAIN = 'cluster.local';
/** Where the resolver points: nothing answers there, so names missing from /etc/hosts fail fast (ICMP unreachable). */
export const CLUSTER_DNS_IP = '10.96.0.10';

export interface ServiceAddress {
  namespace: string;
  name: string;
  clusterIP: string;
}

/** Services with a cluster IP (not headless, not ExternalName). */
export function serviceAddresses(store: ObjectReader): ServiceAddress[] {
  const out: ServiceAddress[] = [];
  for (const s of store.list('services', undefined).items) {
    const ip = s.spec?.clusterIP;
    if (!ip || ip === 'None' || s.spec?.type === 'ExternalName') continue;
    out.push({ namespace: s.metadata.namespace!, name: s.metadata.name!, clusterIP: ip });
  }
  return out.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

/** The pod's hostname (spec.hostname, else the pod name cut to 63 characters, as upstream GeneratePodHostNameAndDomain). */
export function podHostname(pod: KubeObject): string {
  const h: string = pod.spec?.hostname || pod.metadata.name!;
  return h.length > 63 ? h.slice(0, 63).replace(/[-.]+$/, '') : h;
}

/** K pkg/kubelet/kubelet_pods.go managedHostsFileContent, then the Services. */
export function hostsFileContent(pod: KubeObject, podIP: string, services: ServiceAddress[]): string {
  const ns = pod.metadata.namespace!;
  const hostname = podHostname(pod);
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ];
  const sub = pod.spec?.subdomain;
  lines.push(sub ? `${podIP}\t${hostname}.${sub}.${ns}.svc.${CLUSTER_DOMAIN}\t${hostname}` : `${podIP}\t${hostname}`);
  const aliases: any[] = pod.spec?.hostAliases ?? [];
  if (aliases.length) {
    lines.push('', '# Entries added by HostAliases.');
    for (const a of aliases) if (a.ip && a.hostnames?.length) lines.push(`${a.ip}\t${a.hostnames.join('\t')}`);
  }
  if (services.length) {
    lines.push('', '# Services (the sandbox stands in for cluster DNS with these lines).');
    for (const s of services) {
      const names = [`${s.name}.${s.namespace}`, `${s.name}.${s.namespace}.svc`, `${s.name}.${s.namespace}.svc.${CLUSTER_DOMAIN}`];
      if (s.namespace === ns) names.unshift(s.name);
      lines.push(`${s.clusterIP}\t${names.join(' ')}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** A ClusterFirst pod's resolv.conf (K pkg/kubelet/network/dns/dns.go). */
export function resolvConfContent(namespace: string): string {
  return [
    `search ${namespace}.svc.${CLUSTER_DOMAIN} svc.${CLUSTER_DOMAIN} ${CLUSTER_DOMAIN}`,
    `nameserver ${CLUSTER_DNS_IP}`,
    'options ndots:5',
    '',
  ].join('\n');
}

/** `my-svc` -> `MY_SVC` (envvars.go makeEnvVariableName). */
export function envName(s: string): string {
  return s.toUpperCase().replace(/-/g, '_');
}

/** The variables of one Service (envvars.go FromServices: *_SERVICE_HOST/PORT, then the Docker link variables). */
export function serviceEnvVars(svc: KubeObject): [string, string][] {
  const ip: string = svc.spec.clusterIP;
  const prefix = envName(svc.metadata.name!);
  const ports: any[] = svc.spec.ports ?? [];
  const out: [string, string][] = [[`${prefix}_SERVICE_HOST`, ip]];
  if (ports.length) out.push([`${prefix}_SERVICE_PORT`, String(ports[0].port)]);
  for (const p of ports) if (p.name) out.push([`${prefix}_SERVICE_PORT_${envName(p.name)}`, String(p.port)]);
  ports.forEach((p, i) => {
    const proto = String(p.protocol ?? 'TCP');
    const url = `${proto.toLowerCase()}://${ip}:${p.port}`;
    if (i === 0) out.push([`${prefix}_PORT`, url]);
    const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
    out.push([pp, url], [`${pp}_PROTO`, proto.toLowerCase()], [`${pp}_PORT`, String(p.port)], [`${pp}_ADDR`, ip]);
  });
  return out;
}

/**
 * getServiceEnvVarMap: the `kubernetes` Service of the `default` namespace always; the other Services of the pod's
 * namespace when `enableServiceLinks` is not false. Only Services with a cluster IP count.
 */
export function serviceEnv(store: ObjectReader, pod: KubeObject): Map<string, string> {
  const ns = pod.metadata.namespace!;
  const links = pod.spec?.enableServiceLinks !== false;
  const chosen = new Map<string, KubeObject>();
  const hasIP = (s: KubeObject): boolean => !!s.spec?.clusterIP && s.spec.clusterIP !== 'None';
  for (const s of store.list('services', 'default').items) {
    if (!hasIP(s)) continue;
    if (s.metadata.name === 'kubernetes' || (ns === 'default' && links)) chosen.set(s.metadata.name!, s);
  }
  if (links && ns !== 'default') for (const s of store.list('services', ns).items) if (hasIP(s)) chosen.set(s.metadata.name!, s);
  const env = new Map<string, string>();
  for (const s of [...chosen.values()].sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!))) for (const [k, v] of serviceEnvVars(s)) env.set(k, v);
  return env;
}
