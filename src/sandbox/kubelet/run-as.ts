/**
 * Which user a container's processes run as. A sandbox started as root would otherwise hand root to every pod, and
 * through the pod to anyone who can create one; so, as root, the kubelet drops to the pod's
 * securityContext.runAsUser/runAsGroup (the container's over the pod's), else to a default non-root user: 65534
 * (nobody/nogroup), which owns no files, so a pod writes only where the kubelet gave it a directory (its emptyDirs);
 * its HOME is `/` (upstream's default for a user the image does not know).
 * uid 0 or gid 0 is refused unless KubeletOptions.allowRootPods. Started as another user, the sandbox cannot
 * change users: pods run as that user, who holds nothing more than the sandbox's own rights. In rootless namespaces
 * (network/index.ts) too: only that uid is mapped there, and each container drops to it in a user namespace of its
 * own (network/container-setup.ts), so runAsUser/runAsGroup are not honoured there either.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { KubeObject } from '../types.js';
import { ConfigError } from './config.js';

export interface ProcessUser {
  uid: number;
  gid: number;
}

export interface RunAsOptions {
  /** The user of containers that set no runAsUser/runAsGroup (default 65534:65534). */
  defaultUser?: Partial<ProcessUser>;
  /** Lets pods run as uid or gid 0 (default false). */
  allowRootPods?: boolean;
}

export const DEFAULT_POD_USER: ProcessUser = { uid: 65534, gid: 65534 };

const isRoot = (): boolean => process.getuid?.() === 0;

/**
 * The user to run `container` of `pod` as; undefined when the sandbox is not root (the processes inherit its user).
 * Throws ConfigError (CreateContainerConfigError) for a root user that is not allowed, or one runAsNonRoot forbids.
 */
export function containerUser(pod: KubeObject, container: any, opts: RunAsOptions): ProcessUser | undefined {
  const psc = pod.spec?.securityContext ?? {};
  const csc = container?.securityContext ?? {};
  const uid: number = csc.runAsUser ?? psc.runAsUser ?? opts.defaultUser?.uid ?? DEFAULT_POD_USER.uid;
  const gid: number = csc.runAsGroup ?? psc.runAsGroup ?? opts.defaultUser?.gid ?? DEFAULT_POD_USER.gid;
  if ((csc.runAsNonRoot ?? psc.runAsNonRoot) === true && uid === 0) {
    // K pkg/kubelet/kuberuntime/security_context_others.go verifyRunAsNonRoot.
    throw new ConfigError(`container's runAsUser breaks non-root policy (pod: "${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})", container: ${container?.name})`);
  }
  if (!isRoot()) return undefined;
  if ((uid === 0 || gid === 0) && !opts.allowRootPods) {
    throw new ConfigError(`container ${container?.name} would run as ${uid === 0 ? 'uid' : 'gid'} 0: this sandbox runs pods as non-root users unless started with allowRootPods`);
  }
  return { uid, gid };
}

/**
 * emptyDirs are 0777 (as upstream's empty_dir.go makes them), so every container of the pod, whatever its user, can
 * write there, and owned by the pod-level user (git, for one, refuses a checkout another user owns); the kubelet
 * materialized them as root. ConfigMap/Secret/projected volumes stay root-owned and world-readable: read-only.
 */
export function openWritableVolumes(pod: KubeObject, volumeDirs: Map<string, string>, opts: RunAsOptions): void {
  if (!isRoot()) return;
  const psc = pod.spec?.securityContext ?? {};
  const uid: number = psc.runAsUser ?? opts.defaultUser?.uid ?? DEFAULT_POD_USER.uid;
  const gid: number = psc.runAsGroup ?? opts.defaultUser?.gid ?? DEFAULT_POD_USER.gid;
  for (const v of pod.spec?.volumes ?? []) {
    const dir = v.emptyDir ? volumeDirs.get(v.name) : undefined;
    if (!dir) continue;
    fs.chownSync(dir, uid, gid);
    fs.chmodSync(dir, 0o777);
  }
}

/**
 * As root, lets pod users traverse (not list) the directories above their volumes: `dir` and its parents up to and
 * including `top` get o+x. Host-network pods reach volumes by their host path; isolated ones through bind mounts.
 */
export function allowTraverse(dir: string, top: string): void {
  if (!isRoot()) return;
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const st = fs.statSync(d);
    if ((st.mode & 0o001) === 0) fs.chmodSync(d, (st.mode & 0o7777) | 0o001);
    if (d === path.resolve(top) || d === path.dirname(d)) break;
  }
}

/**
 * As root, hands a directory pods write into (the Python venv cache: containers create venvs and pip-install there)
 * to the default pod user, recursively, and lets it be reached from its parent. Pods running as another user can read
 * and run what is there but not install into it.
 */
export function shareWithPods(dir: string, opts: RunAsOptions = {}): void {
  if (!isRoot()) return;
  const user = { ...DEFAULT_POD_USER, ...opts.defaultUser };
  fs.chownSync(dir, user.uid, user.gid);
  for (const rel of fs.readdirSync(dir, { recursive: true }) as string[]) fs.lchownSync(path.join(dir, rel), user.uid, user.gid);
  allowTraverse(dir, path.dirname(dir));
}

/**
 * Looks `cmd` up as the runtime does after it dropped to the container's user (runc's exec.LookPath after
 * finalizeNamespace): a name containing `/` is taken as is (relative to `dir`, the working directory), else the first
 * entry of `pathEnv` (container paths, mapped to host ones by `hostPath`) holding a regular file `user` may execute. Directories `user` cannot traverse
 * and files it cannot execute are skipped, so the answer is "not found", never the exec's EACCES. Undefined `user`:
 * the processes run as the sandbox's own user, whose access(2) answers. Returns the (container) path, or undefined.
 */
export function lookPath(cmd: string, pathEnv: string, dir: string, user: ProcessUser | undefined, hostPath: (p: string) => string = (p) => p): string | undefined {
  const ok = (p: string): boolean => {
    const host = hostPath(path.resolve(dir, p));
    return user ? userMayExecute(host, user) : selfMayExecute(host);
  };
  if (cmd.includes('/')) return ok(cmd) ? cmd : undefined;
  for (const d of pathEnv.split(':')) {
    if (d !== '' && ok(path.join(d, cmd))) return path.join(d, cmd);
  }
  return undefined;
}

function selfMayExecute(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Whether `user` (no supplementary groups: spawn's setgroups(0) and nsenter --setuid clear them) may execute `file`,
 * judged from mode bits: Node has no access(2) for another user, and switching the process's own ids would switch
 * every libuv thread's too. Every directory on the way, the symlinks' targets' included, must grant it search.
 * ACLs are not read; uid 0 (allowRootPods) keeps root's override and needs one x bit on the file.
 */
function userMayExecute(file: string, user: ProcessUser): boolean {
  const granted = (st: fs.Stats, bit: number): boolean => {
    if (user.uid === 0) return st.isDirectory() || (st.mode & 0o111) !== 0;
    const shift = st.uid === user.uid ? 6 : st.gid === user.gid ? 3 : 0;
    return ((st.mode >> shift) & bit) !== 0;
  };
  try {
    const st = fs.statSync(file);
    if (!st.isFile() || !granted(st, 0o1)) return false;
    const dirs = new Set<string>();
    for (const p of [path.resolve(file), fs.realpathSync(file)]) {
      for (let d = path.dirname(p); ; d = path.dirname(d)) {
        dirs.add(d);
        if (d === path.dirname(d)) break;
      }
    }
    return [...dirs].every((d) => granted(fs.statSync(d), 0o1));
  } catch {
    return false;
  }
}
