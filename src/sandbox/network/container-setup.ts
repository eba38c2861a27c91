/**
 * A container's mount namespace.
 *
 * Each container of an isolated pod (pod.ts) starts as `nsenter --net --uts --ipc (the holder's) -- unshare --mount
 * --propagation private -- sh -c <setup> sh <argv…>`; the setup script bind-mounts every volume (materialized under
 * `<dataDir>/pods/<uid>/volumes/<name>`, or a hostPath) onto its mountPath, plus the pod's generated /etc/hosts,
 * /etc/resolv.conf and /etc/hostname, `cd`s to workingDir and `exec`s the command (same pid, so signals, exit codes
 * and the process group are the container's). Like upstream, containers of a pod share network and hostname but each
 * has its own mounts. Mounts are private to that namespace and vanish with the container.
 *
 * A mountPath that does not exist: when it lies inside another volume of the container it is created there (as runc
 * does); otherwise its nearest existing ancestor gets an overlay (lower = the host directory, upper = a tmpfs private
 * to the container) and the mount point is created in the overlay, so the host is not touched. A missing top-level
 * directory (`/bodywork/project`, `/data`) cannot be made that way (`/` cannot be overlaid in place): such a
 * container runs chrooted in a new root that binds every host top-level entry to itself and adds the new directories
 * on a tmpfs (see MountSetup). Only without a `chroot` binary is that EMPTY directory created on the host root and
 * left there (mount points of other pods may be using it). An overlaid directory hides the submounts below it inside
 * that container.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ProcessUser } from '../kubelet/run-as.js';
import { shq } from './linux.js';

export interface ContainerMount {
  mountPath: string;
  /** Host path of the volume (or the subPath inside it). */
  source: string;
  readOnly: boolean;
  /**
   * The container's writable layer at an existing host directory (kubelet/writable-layer.ts): mounted after every
   * volume (their sources may lie below it, in the data dir under /tmp): a tmpfs mounted on `source`, with the host
   * directory bound at `<source>/<hostLink>` and a symlink in the layer to each of its entries.
   */
  layer?: { hostLink: string };
}

export interface PodFiles {
  hosts?: string;
  resolvConf?: string;
  hostname?: string;
}

/** Run by the shell inside a new root (chroot starts in `/`). */
export const CD_SCRIPT = 'cd "$0" && exec "$@"';
/**
 * The container's stderr goes where its stdout goes, one pipe: read from two pipes, a traceback written just after a
 * line of output could reach the log before it (each chunk is stamped when it is read). The order matters more
 * than the stream tag, which `kubectl logs` does not show.
 */
export const ONE_OUTPUT = '2>&1';

/** `$0` of the mount setup script: how commandStarted tells it from a container command that is itself an `sh -c` script. */
export const SETUP_ARG0 = 'sandbox-container-setup';

/** An entry of the host's root directory, as a new root reproduces it. */
export interface RootEntry {
  name: string;
  type: 'dir' | 'file' | 'link';
  /** Symlink target. */
  target?: string;
}

export interface SetupOptions {
  exists?: (p: string) => boolean;
  isDir?: (p: string) => boolean;
  /** The chroot binary. Without it, a missing top-level mountPath directory is created on the host root. */
  chroot?: string;
  rootEntries?: () => RootEntry[];
  /**
   * Rootless (network/linux.ts): the setup runs as root of the sandbox's user namespace; the command then runs in a
   * user namespace of its own mapping only `user` (our own uid, seen as itself), so it holds no capability over the
   * sandbox's namespaces. `unshare` also enters the new root: a chrooted process may not create a user namespace.
   */
  rootless?: { unshare: string; user: ProcessUser };
}

export function hostRootEntries(): RootEntry[] {
  const out: RootEntry[] = [];
  for (const d of fs.readdirSync('/', { withFileTypes: true })) {
    const p = `/${d.name}`;
    if (d.isSymbolicLink()) out.push({ name: d.name, type: 'link', target: fs.readlinkSync(p) });
    else if (d.isDirectory()) out.push({ name: d.name, type: 'dir' });
    else if (d.isFile()) out.push({ name: d.name, type: 'file' });
  }
  return out;
}

/** A path as an fstab field: util-linux reads `\040` (space), `\011`, `\012` and `\134` (backslash) as octal escapes. */
function fstabField(p: string): string {
  return p.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/**
 * The lines that make the new root: the host's top-level symlinks copied, its directories and files bound to
 * themselves, the new top-level directories. Made at every container start with few processes (each costs a fork
 * and exec, more on a loaded machine): one `mkdir` for every mount point, one `cp -P` for the symlinks, and one
 * `mount -a` of an fstab written by the shell's own printf, instead of a mkdir and a mount per entry.
 */
function newRootLines(entries: RootEntry[], root: string, newTops: string[], fstab: string): string[] {
  const at = (name: string): string => `${root}/${name}`;
  const dirs = entries.filter((e) => e.type === 'dir');
  const files = entries.filter((e) => e.type === 'file');
  const links = entries.filter((e) => e.type === 'link');
  const lines = [`mkdir -m 755 ${shq(root)}`];
  const points = [...dirs.map((e) => at(e.name)), ...newTops.map((t) => root + t)];
  if (points.length > 0) lines.push(`mkdir -m 755 ${points.map(shq).join(' ')}`);
  if (links.length > 0) lines.push(`cp -P ${links.map((e) => shq(`/${e.name}`)).join(' ')} ${shq(`${root}/`)}`);
  lines.push(...files.map((e) => `: > ${shq(at(e.name))}`));
  const binds = [...dirs.map((e) => [e.name, 'rbind']), ...files.map((e) => [e.name, 'bind'])];
  if (binds.length > 0) {
    const rows = binds.map(([name, how]) => `${fstabField(`/${name}`)} ${fstabField(at(name))} none ${how} 0 0`);
    lines.push(`printf '%s\\n' ${rows.map(shq).join(' ')} > ${shq(fstab)}`, `mount -a -T ${shq(fstab)}`);
  }
  return lines;
}

/**
 * The shell script that prepares a container's mount namespace and execs the command (`"$@"`). Pure: decisions
 * about which paths exist are taken here from the host's view (`exists`), which is what the new namespace starts with.
 *
 * A mountPath under a top-level directory the host lacks (`/bodywork/project`) needs a new directory in `/`, which
 * the host must not get: the container then runs in a new root, a tmpfs holding the new top-level directories plus
 * every host top-level entry bound to itself (`mount --rbind /usr <root>/usr`, symlinks copied), entered with chroot.
 * Everything outside the new directories is the host's, read and written through as before.
 */
export function containerSetupScript(
  mounts: ContainerMount[],
  files: PodFiles,
  cwd: string | undefined,
  scratch: string,
  opts: SetupOptions = {},
): { script: string; hostDirs: string[] } {
  const exists = opts.exists ?? fs.existsSync;
  const all = mountOrder(mounts, files);
  const newTops = [...new Set(all.filter((m) => m.mountPath !== '/' && !exists(topOf(m.mountPath))).map((m) => topOf(m.mountPath)))];
  const setup = new MountSetup(scratch, newTops.length && opts.chroot ? `${scratch}/root` : '', exists, opts.isDir ?? ((p: string) => fs.statSync(p).isDirectory()));
  if (setup.root) setup.newRoot((opts.rootEntries ?? hostRootEntries)(), newTops);
  for (const m of all) setup.mount(m);
  setup.exec(cwd, opts);
  return { script: setup.lines.join('\n'), hostDirs: setup.hostDirs };
}

const topOf = (p: string): string => '/' + p.split('/')[1];
const under = (p: string, dirs: string[]): boolean => dirs.some((d) => d === '/' || p === d || p.startsWith(d + '/'));

/**
 * The container's mounts, the pod's files among them (unless a volume takes their place), in the order they are
 * made: parents before children (a volume inside another volume is mounted after it). A mount over a directory that
 * holds other mounts' sources (a volume at /tmp, where the sandbox keeps its data) goes after them, with what lies
 * below it.
 */
function mountOrder(mounts: ContainerMount[], files: PodFiles): ContainerMount[] {
  const all: ContainerMount[] = [...mounts.map((m) => ({ ...m, mountPath: path.posix.normalize(m.mountPath).replace(/(.)\/+$/, '$1') }))];
  const taken = new Set(all.map((m) => m.mountPath));
  if (files.hosts && !taken.has('/etc/hosts')) all.push({ mountPath: '/etc/hosts', source: files.hosts, readOnly: false });
  if (files.resolvConf && !taken.has('/etc/resolv.conf')) all.push({ mountPath: '/etc/resolv.conf', source: files.resolvConf, readOnly: false });
  if (files.hostname && !taken.has('/etc/hostname')) all.push({ mountPath: '/etc/hostname', source: files.hostname, readOnly: false });
  const hiding = all.filter((m) => all.some((o) => o !== m && under(o.source, [m.mountPath]))).map((m) => m.mountPath);
  const late = (m: ContainerMount): number => (under(m.mountPath, hiding) ? 1 : 0);
  return all.sort((a, b) => late(a) - late(b) || a.mountPath.split('/').length - b.mountPath.split('/').length || a.mountPath.localeCompare(b.mountPath));
}

/** The setup script as it is written, mount by mount, and what it knows of the namespace it prepares. */
class MountSetup {
  // The setup's own tools come from the system PATH; the command is looked up in the container's PATH, as set.
  readonly lines = ['set -e', 'if [ -n "${PATH+x}" ]; then SBX_PATH=$PATH; fi', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin'];
  /** Top-level directories to create on the host root (no chroot binary). */
  readonly hostDirs: string[] = [];
  /** Writable places where mount points are simply created: volumes, and new top-level directories. */
  private readonly mounted: string[] = [];
  /** Directories given an overlay, where mount points are created too. */
  private readonly overlaid: string[] = [];
  private scratchMounted = false;

  constructor(
    private readonly scratch: string,
    /** The new root ('' when the container keeps the host's). */
    readonly root: string,
    private readonly exists: (p: string) => boolean,
    private readonly isDir: (p: string) => boolean,
  ) {}

  /** A path of the container's view, quoted, as the setup (outside the new root) reaches it. */
  private at(p: string): string {
    return shq(this.root + p);
  }

  private mountScratch(): void {
    if (this.scratchMounted) return;
    this.lines.push(`mount -t tmpfs -o mode=700 sandbox-scratch ${shq(this.scratch)}`);
    this.scratchMounted = true;
  }

  newRoot(entries: RootEntry[], newTops: string[]): void {
    this.mountScratch();
    this.lines.push(...newRootLines(entries, this.root, newTops, `${this.scratch}/fstab`));
    this.mounted.push(...newTops);
  }

  mount(m: ContainerMount): void {
    if (m.layer) {
      // An existing host directory (after the mounts whose sources it holds, see mountOrder). The host's own directory
      // stays reachable inside the layer (a plain bind: mounts below the host directory are not carried), then the
      // layer, with that bind (hence rbind), replaces the directory in this container only.
      // The links (relative: `<hostLink>/<entry>`) come from one `find` and a few `ln` processes, not a process or a
      // blocking call per entry: a shared machine's /tmp holds thousands. Best effort: an entry another process
      // removes while find reads the directory makes find report it and fail, which must not fail the container.
      const link = shq(m.layer.hostLink);
      this.lines.push(
        `mount -t tmpfs -o mode=1777 sandbox-layer ${shq(m.source)}`,
        `mkdir ${shq(`${m.source}/${m.layer.hostLink}`)}`,
        `mount --bind ${shq(m.mountPath)} ${shq(`${m.source}/${m.layer.hostLink}`)}`,
        `(cd ${shq(m.source)} && find ${link} -mindepth 1 -maxdepth 1 ! -name ${link} -exec ln -s -t . -- {} + 2>/dev/null || :)`,
        `mount --rbind ${shq(m.source)} ${this.at(m.mountPath)}`,
      );
    } else {
      this.makeMountPoint(m.mountPath, this.sourceIsDir(m.source));
      this.lines.push(`mount --bind ${shq(m.source)} ${this.at(m.mountPath)}`);
      if (m.readOnly) this.lines.push(`mount -o remount,bind,ro ${this.at(m.mountPath)}`);
    }
    this.mounted.push(m.mountPath);
  }

  private sourceIsDir(source: string): boolean {
    try {
      return this.isDir(source);
    } catch {
      return true;
    }
  }

  /** Lines that make `target` exist, as a directory or a file, without touching the host. */
  private makeMountPoint(target: string, dir: boolean): void {
    const make = dir ? `mkdir -p ${this.at(target)}` : `mkdir -p ${this.at(path.posix.dirname(target))} && : > ${this.at(target)}`;
    if (under(target, this.mounted) || under(target, this.overlaid)) {
      // Inside a volume (created in it, as runc does) or inside a directory we already overlaid or created.
      if (!this.exists(target) || under(target, this.mounted)) this.lines.push(`[ -e ${this.at(target)} ] || { ${make}; }`);
      return;
    }
    if (this.exists(target)) return;
    let anc = path.posix.dirname(target);
    while (anc !== '/' && !this.exists(anc)) anc = path.posix.dirname(anc);
    if (anc === '/') {
      // No chroot: only the top-level directory is created on the host; the rest goes into an overlay on it.
      anc = topOf(target);
      if (!this.hostDirs.includes(anc)) this.hostDirs.push(anc);
      if (anc === target && dir) return;
    }
    this.overlay(anc);
    this.lines.push(make);
  }

  /** An overlay on `dir`: the host directory below, a tmpfs private to the container above. */
  private overlay(dir: string): void {
    this.mountScratch();
    const n = this.overlaid.length;
    const { scratch } = this;
    this.lines.push(`mkdir ${shq(`${scratch}/u${n}`)} ${shq(`${scratch}/w${n}`)}`);
    this.lines.push(`mount -t overlay sandbox-overlay -o ${shq(`lowerdir=${this.root}${dir},upperdir=${scratch}/u${n},workdir=${scratch}/w${n}`)} ${this.at(dir)}`);
    this.overlaid.push(dir);
  }

  /** The last lines: the container's PATH back, then the command in its working directory (and new root, as its user). */
  exec(cwd: string | undefined, opts: SetupOptions): void {
    const restorePath = 'if [ -n "${SBX_PATH+x}" ]; then PATH=$SBX_PATH; unset SBX_PATH; else unset PATH; fi';
    const { root } = this;
    const rl = opts.rootless;
    if (rl) {
      const drop = `exec ${shq(rl.unshare)} --user --map-user=${rl.user.uid} --map-group=${rl.user.gid}`;
      const dir = cwd ? shq(cwd) : '"$PWD"';
      this.lines.push(restorePath, root ? `${drop} --root=${shq(root)} --wd=${dir} -- "$@" ${ONE_OUTPUT}` : `${cwd ? `cd ${dir} && ` : ''}${drop} -- "$@" ${ONE_OUTPUT}`);
    } else if (root) {
      // chroot(1) starts in `/`: a shell inside goes to the working directory (the inherited one by default).
      this.lines.push(restorePath, `exec ${shq(opts.chroot!)} ${shq(root)} /bin/sh -c ${shq(CD_SCRIPT)} ${cwd ? shq(cwd) : '"$PWD"'} "$@" ${ONE_OUTPUT}`);
    } else {
      if (cwd) this.lines.push(`cd ${shq(cwd)}`);
      this.lines.push(restorePath, `exec "$@" ${ONE_OUTPUT}`);
    }
  }
}
