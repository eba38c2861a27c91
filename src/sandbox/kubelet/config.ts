/**
 * Container configuration the kubelet assembles before starting a process: environment variables
 * (K pkg/kubelet/kubelet_pods.go makeEnvironmentVariables) and volumes (K pkg/volume/{configmap,secret,projected,
 * emptydir,hostpath,downwardapi}).
 *
 * Volumes are materialized under `<dataDir>/pods/<uid>/volumes/<name>`. With isolated pod sandboxes
 * (network/container-setup.ts) each container gets a mount namespace where they are bind-mounted at their real
 * `mountPath`, and nothing is rewritten. FALLBACK ONLY (host network, no mount namespaces: `isolation: 'none'` or a host that allows none):
 * a container's processes see the host file system, so every absolute `mountPath` is rewritten, by path prefix, to
 * that host directory in the container's workingDir, command, args, env values and exec probes (`rewritePaths`). A
 * program that builds a mount path at run time (e.g. reads `/etc/config` from a constant inside a script file) will
 * not see the volume there.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { KubeObject } from '../types.js';
import { isQuantity, parseQuantity } from '../../engine/kube/quantity.js';

/** A configuration problem that keeps a container waiting (reason CreateContainerConfigError / FailedMount). */
export class ConfigError extends Error {}

function decodeB64(v: string): Buffer {
  return Buffer.from(v, 'base64');
}

/** K pkg/fieldpath/fieldpath.go ExtractFieldPathAsString plus the status.* fields the kubelet resolves itself. */
export function resolveFieldRef(pod: KubeObject, fieldPath: string, hostIP: string, podIP: string): string {
  const md = pod.metadata;
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (m) return (m[1] === 'labels' ? md.labels : md.annotations)?.[m[2]] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return md.name ?? '';
    case 'metadata.namespace':
      return md.namespace ?? '';
    case 'metadata.uid':
      return md.uid ?? '';
    case 'metadata.labels':
      return Object.entries(md.labels ?? {}).map(([k, v]) => `${k}="${v}"`).sort().join('\n');
    case 'metadata.annotations':
      return Object.entries(md.annotations ?? {}).map(([k, v]) => `${k}="${v}"`).sort().join('\n');
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return hostIP;
    case 'status.podIP':
    case 'status.podIPs':
      return podIP;
    default:
      throw new ConfigError(`unsupported fieldPath: ${fieldPath}`);
  }
}

/**
 * resourceFieldRef, as K pkg/api/v1/resource ExtractContainerResourceValue: the value over the divisor (default 1),
 * rounded up, in exact integers: CPU in milli-units (MilliValue), the rest in units (Value). Limits fall back to the
 * node's allocatable (here: the host's CPUs and memory).
 */
function resolveResourceRef(container: any, ref: { resource: string; divisor?: string }, hostCpus: number, hostMem: number): string {
  const [kind, res] = ref.resource.split('.');
  const src = kind === 'limits' ? container.resources?.limits : container.resources?.requests;
  const scale = res === 'cpu' ? 3 : 0;
  const exact = (q: string | number | undefined): number | undefined => (q !== undefined && isQuantity(q) ? parseQuantity(q, scale) : undefined);
  const v = exact(src?.[res]) ?? (kind === 'limits' ? (res === 'cpu' ? hostCpus * 1000 : hostMem) : 0);
  const div = exact(ref.divisor) || 10 ** scale;
  return String(Math.ceil(v / div));
}

/** `$(VAR)` expansion as K third_party/forked/golang/expansion: `$$` escapes, unknown references stay verbatim. */
export function expand(input: string, vars: Map<string, string>): string {
  return input.replace(/\$\$|\$\(([^)]*)\)/g, (whole, name: string | undefined) => {
    if (whole === '$$') return '$';
    const v = name !== undefined ? vars.get(name) : undefined;
    return v ?? whole;
  });
}

/** Where Secrets, ConfigMaps and ServiceAccount tokens come from (the node's API view; a ClusterStore reads too). */
export interface ConfigReader {
  find(key: string, namespace: string | undefined, name: string): KubeObject | undefined;
  /** Undefined while the token is being fetched; a reader without it (a bare store) yields a placeholder token. */
  token?(pod: KubeObject, source: { audience?: string; expirationSeconds?: number; path: string }): string | undefined;
}

export interface EnvContext {
  store: ConfigReader;
  pod: KubeObject;
  hostIP: string;
  podIP: string;
  hostCpus: number;
  hostMem: number;
}

/**
 * Builds the container env in upstream order: envFrom first, then env (later entries win, `$(VAR)` expanded, also
 * from the service variables), then the service variables not defined otherwise (K kubelet_pods.go
 * makeEnvironmentVariables).
 */
export function buildEnv(ctx: EnvContext, container: any, serviceEnv?: Map<string, string>): Map<string, string> {
  const ns = ctx.pod.metadata.namespace!;
  const vars = new Map<string, string>();
  for (const src of container.envFrom ?? []) {
    const prefix: string = src.prefix ?? '';
    if (src.configMapRef) {
      const cm = ctx.store.find('configmaps', ns, src.configMapRef.name);
      if (!cm) {
        if (src.configMapRef.optional) continue;
        throw new ConfigError(`configmap "${src.configMapRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(cm.data ?? {})) vars.set(prefix + k, String(v));
    } else if (src.secretRef) {
      const s = ctx.store.find('secrets', ns, src.secretRef.name);
      if (!s) {
        if (src.secretRef.optional) continue;
        throw new ConfigError(`secret "${src.secretRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(s.data ?? {})) vars.set(prefix + k, decodeB64(String(v)).toString('utf8'));
    }
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom === undefined) {
      vars.set(e.name, expand(e.value ?? '', serviceEnv ? new Map([...serviceEnv, ...vars]) : vars));
      continue;
    }
    const vf = e.valueFrom;
    if (vf.configMapKeyRef) {
      const { name, key, optional } = vf.configMapKeyRef;
      const cm = ctx.store.find('configmaps', ns, name);
      if (!cm) {
        if (optional) continue;
        throw new ConfigError(`configmap "${name}" not found`);
      }
      const v = cm.data?.[key] ?? (cm.binaryData?.[key] !== undefined ? decodeB64(cm.binaryData[key]).toString('utf8') : undefined);
      if (v === undefined) {
        if (optional) continue;
        throw new ConfigError(`couldn't find key ${key} in ConfigMap ${ns}/${name}`);
      }
      vars.set(e.name, v);
    } else if (vf.secretKeyRef) {
      const { name, key, optional } = vf.secretKeyRef;
      const s = ctx.store.find('secrets', ns, name);
      if (!s) {
        if (optional) continue;
        throw new ConfigError(`secret "${name}" not found`);
      }
      const raw = s.data?.[key];
      if (raw === undefined) {
        if (optional) continue;
        throw new ConfigError(`couldn't find key ${key} in Secret ${ns}/${name}`);
      }
      vars.set(e.name, decodeB64(raw).toString('utf8'));
    } else if (vf.fieldRef) {
      vars.set(e.name, resolveFieldRef(ctx.pod, vf.fieldRef.fieldPath, ctx.hostIP, ctx.podIP));
    } else if (vf.resourceFieldRef) {
      vars.set(e.name, resolveResourceRef(container, vf.resourceFieldRef, ctx.hostCpus, ctx.hostMem));
    }
  }
  for (const [k, v] of serviceEnv ?? []) if (!vars.has(k)) vars.set(k, v);
  return vars;
}

// ---------------------------------------------------------------------------------------------------------------
// Volumes

function writeFile(dir: string, rel: string, content: Buffer | string, mode?: number): void {
  const target = path.resolve(dir, rel);
  if (!target.startsWith(path.resolve(dir) + path.sep)) throw new ConfigError(`invalid path ${JSON.stringify(rel)}: must not contain '..'`);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, content);
  if (mode !== undefined) fs.chmodSync(target, mode & 0o777);
}

function writeKeyed(
  dir: string,
  kind: 'configmap' | 'secret',
  name: string,
  entries: Map<string, Buffer>,
  items: { key: string; path: string; mode?: number }[] | undefined,
  defaultMode: number | undefined,
): void {
  if (items?.length) {
    for (const it of items) {
      const v = entries.get(it.key);
      if (v === undefined) throw new ConfigError(`${kind === 'configmap' ? 'configmap' : 'secret'} references non-existent ${kind === 'configmap' ? 'config' : 'secret'} key: ${it.key}`);
      writeFile(dir, it.path, v, it.mode ?? defaultMode);
    }
    return;
  }
  void name;
  for (const [k, v] of entries) writeFile(dir, k, v, defaultMode);
}

function configMapEntries(cm: KubeObject): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm.data ?? {})) m.set(k, Buffer.from(String(v), 'utf8'));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) m.set(k, decodeB64(String(v)));
  return m;
}

function secretEntries(s: KubeObject): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(s.data ?? {})) m.set(k, decodeB64(String(v)));
  return m;
}

/**
 * Materializes every volume of the pod under `volumesDir/<name>` and returns the host directory of each volume.
 * Throws ConfigError with the text upstream puts after `MountVolume.SetUp failed for volume "v" : `.
 */
export function materializeVolumes(ctx: EnvContext, volumesDir: string): Map<string, string> {
  const ns = ctx.pod.metadata.namespace!;
  const out = new Map<string, string>();
  for (const v of ctx.pod.spec?.volumes ?? []) {
    if (v.hostPath) {
      out.set(v.name, v.hostPath.path);
      continue;
    }
    const dir = path.join(volumesDir, v.name);
    try {
      if (v.emptyDir) {
        fs.mkdirSync(dir, { recursive: true });
      } else if (v.configMap) {
        const cm = ctx.store.find('configmaps', ns, v.configMap.name);
        fs.mkdirSync(dir, { recursive: true });
        if (!cm) {
          if (!v.configMap.optional) throw new ConfigError(`configmap "${v.configMap.name}" not found`);
        } else writeKeyed(dir, 'configmap', v.configMap.name, configMapEntries(cm), v.configMap.items, v.configMap.defaultMode);
      } else if (v.secret) {
        const s = ctx.store.find('secrets', ns, v.secret.secretName);
        fs.mkdirSync(dir, { recursive: true });
        if (!s) {
          if (!v.secret.optional) throw new ConfigError(`secret "${v.secret.secretName}" not found`);
        } else writeKeyed(dir, 'secret', v.secret.secretName, secretEntries(s), v.secret.items, v.secret.defaultMode);
      } else if (v.projected || v.downwardAPI) {
        fs.mkdirSync(dir, { recursive: true });
        const sources: any[] = v.projected ? (v.projected.sources ?? []) : [{ downwardAPI: v.downwardAPI }];
        const mode = v.projected?.defaultMode ?? v.downwardAPI?.defaultMode;
        for (const src of sources) {
          if (src.configMap) {
            const cm = ctx.store.find('configmaps', ns, src.configMap.name);
            if (!cm) {
              if (!src.configMap.optional) throw new ConfigError(`configmap "${src.configMap.name}" not found`);
              continue;
            }
            writeKeyed(dir, 'configmap', src.configMap.name, configMapEntries(cm), src.configMap.items, mode);
          } else if (src.secret) {
            const s = ctx.store.find('secrets', ns, src.secret.name);
            if (!s) {
              if (!src.secret.optional) throw new ConfigError(`secret "${src.secret.name}" not found`);
              continue;
            }
            writeKeyed(dir, 'secret', src.secret.name, secretEntries(s), src.secret.items, mode);
          } else if (src.downwardAPI) {
            for (const it of src.downwardAPI.items ?? []) {
              const value = it.fieldRef ? resolveFieldRef(ctx.pod, it.fieldRef.fieldPath, ctx.hostIP, ctx.podIP) : '';
              writeFile(dir, it.path, value, it.mode ?? mode);
            }
          } else if (src.serviceAccountToken) {
            // K pkg/volume/projected: the token from the TokenRequest API, bound to this pod.
            const token = ctx.store.token ? ctx.store.token(ctx.pod, src.serviceAccountToken) : 'sandbox-service-account-token';
            if (token === undefined) throw new ConfigError(`failed to fetch token: the TokenRequest for service account "${ctx.pod.spec?.serviceAccountName || 'default'}" is pending`);
            writeFile(dir, src.serviceAccountToken.path, token, mode);
          } else if (src.clusterTrustBundle) {
            continue;
          }
        }
      } else {
        const type = Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
        throw new ConfigError(`volume type ${type} is not supported by the sandbox kubelet`);
      }
    } catch (err) {
      if (err instanceof ConfigError) throw Object.assign(err, { volume: v.name });
      throw err;
    }
    out.set(v.name, dir);
  }
  return out;
}

export interface MountMap {
  /** [mountPath, hostPath], longest mountPath first. */
  mounts: [string, string][];
}

export function mountMap(container: any, volumeDirs: Map<string, string>): MountMap {
  const mounts: [string, string][] = [];
  for (const m of container.volumeMounts ?? []) {
    const dir = volumeDirs.get(m.name);
    if (!dir) continue;
    const host = m.subPath ? path.join(dir, m.subPath) : dir;
    if (m.subPath && !fs.existsSync(host)) fs.mkdirSync(host, { recursive: true });
    mounts.push([m.mountPath.replace(/\/+$/, '') || '/', host]);
  }
  mounts.sort((a, b) => b[0].length - a[0].length);
  return { mounts };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Rewrites absolute mount paths inside a string to the host directories (part-1 stand-in for mount namespaces).
 * A mount path is rewritten where it starts a path: at the start of the string or after whitespace, `=`, `:`,
 * a quote, `(` or `,`, and followed by `/`, the end or a separator.
 */
export function rewritePaths(s: string, mm: MountMap): string {
  const mounts = mm.mounts.filter(([mp]) => mp !== '/');
  if (!mounts.length) return s;
  // One pass with the longest mount paths first in the alternation, so host paths are never rewritten twice.
  const re = new RegExp(`(^|[\\s=:'"(,])(${mounts.map(([mp]) => escapeRe(mp)).join('|')})(?=$|[/\\s'":;,)])`, 'g');
  const byPath = new Map(mounts);
  return s.replace(re, (_m, pre: string, mp: string) => `${pre}${byPath.get(mp)}`);
}
