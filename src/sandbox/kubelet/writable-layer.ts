/**
 * A container's own writable filesystem, as far as the sandbox can give one. On a cluster every container writes into
 * its image's private writable layer, so `/tmp` of one pod is never another's: a model a training stage leaves in
 * /tmp is gone for the service that would read it. The sandbox runs containers as host processes over the host's
 * root, so without this they would all share the host's /tmp.
 *
 * - Isolated pods (a mount namespace per container): /tmp and /var/tmp are a fresh tmpfs per container instance, mode
 *   1777 like a real /tmp, mounted by the container's mount setup (network/container-setup.ts) on a directory made here
 *   (`<podDir>/containers/<name>/<restart>/tmp`). A restarted container starts with an empty one (a new container, a
 *   new layer), and it is gone, memory and all, with the container; a volume the pod mounts at or below /tmp keeps the
 *   host's. Memory, as /tmp is on many Linux distributions, because the layer also holds a symlink to every entry of
 *   the host's directory (bound inside the layer at HOST_LINK), so that what the host's /tmp held when the container
 *   started stays reachable at the same paths: the sandbox's own data dir (venvs, volumes) is often there, and
 *   containers see the host's other files too. A shared machine's /tmp holds thousands of entries: made on its disk,
 *   those links took over a second per container; on a tmpfs, by one `find` and a few `ln` in the mount setup, some
 *   30 ms. So what a pod creates in /tmp is its own; only files inside host directories that already existed are
 *   shared, as everywhere else on the host's file system.
 * - Host network (no mount namespaces): the directory cannot appear at /tmp, so `TMPDIR` points at it (Python's
 *   tempfile, mktemp and most tools honour it) unless the pod's env sets TMPDIR. A path written into /tmp literally is
 *   shared in that fallback, which the fallback notice says.
 * Everything lives under the pod's directory, removed with the pod.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerMount } from '../network/index.js';
import { allowTraverse } from './run-as.js';

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The directories a container's writable layer covers in the sandbox. */
export const PRIVATE_DIRS = ['/tmp', '/var/tmp'] as const;
/** Where the host's directory appears inside a layer. */
export const HOST_LINK = '.sandbox-host';

export interface WritableLayer {
  /** Mounts for an isolated container: one per private directory no volume covers (none on the host network). */
  mounts: ContainerMount[];
  /** Environment for a host-network container (TMPDIR; none when isolated). */
  env: Record<string, string>;
}

/**
 * Creates container `name`'s writable layer for its restart `n` (emptied when it exists) and says how to attach it.
 * `volumePaths` are the container's volume mountPaths; `dataDir` is the kubelet's, up to which pods must traverse.
 */
export function createWritableLayer(podDir: string, name: string, n: number, volumePaths: string[], dataDir: string, isolated: boolean): WritableLayer {
  const root = path.join(podDir, 'containers', name, String(n));
  fs.rmSync(root, { recursive: true, force: true });
  const covered = (dir: string): boolean => volumePaths.some((p) => p === '/' || p === dir || dir.startsWith(`${p}/`) || p.startsWith(`${dir}/`));
  const mounts: ContainerMount[] = [];
  for (const dir of PRIVATE_DIRS) {
    if (covered(dir)) continue;
    if (!isDirectory(dir)) continue; // the host has no such directory: nothing to replace
    const source = path.join(root, dir.slice(1).replace(/\//g, '-'));
    fs.mkdirSync(source, { recursive: true });
    // Sticky and world-writable like a real /tmp: the container may run as any user.
    fs.chmodSync(source, 0o1777);
    mounts.push({ mountPath: dir, source, readOnly: false, layer: { hostLink: HOST_LINK } });
  }
  const tmp = mounts.find((m) => m.mountPath === '/tmp');
  if (isolated) return { mounts, env: {} };
  if (tmp) allowTraverse(tmp.source, dataDir);
  return { mounts: [], env: tmp ? { TMPDIR: tmp.source } : {} };
}
