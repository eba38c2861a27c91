/**
 * A pod's sandbox ("pause container"): its network, UTS and IPC namespaces, shared by all its containers, and the
 * per-container mount namespaces that put volumes at their real mountPath.
 *
 * - Network/UTS/IPC: a holder process `unshare --net --uts --ipc -- sh -c '…; cat; …'` (at EOF on its stdin, a pipe
 *   from the kubelet's process, i.e. when the sandbox process died, it kills what is left in the pod and exits); a
 *   veth pair from the node namespace's bridge to the pod's `eth0` with the pod IP/24, default route via the
 *   bridge's gateway; loopback up; hostname = the pod's hostname. `hostNetwork: true` pods skip all of this and use
 *   the host's network.
 * - Mounts: each container starts as `nsenter --net --uts --ipc (the holder's) -- unshare --mount --propagation private --
 *   sh -c <setup> sh <argv…>`; the setup script bind-mounts every volume (materialized under
 *   `<dataDir>/pods/<uid>/volumes/<name>`, or a hostPath) onto its mountPath, plus the pod's generated /etc/hosts,
 *   /etc/resolv.conf and /etc/hostname, `cd`s to workingDir and `exec`s the command (same pid, so signals, exit codes
 *   and the process group are the container's). Like upstream, containers of a pod share network and hostname but
 *   each has its own mounts. Mounts are private to that namespace and vanish with the container.
 *   A mountPath that does not exist: when it lies inside another volume of the container it is created there (as
 *   runc does); otherwise its nearest existing ancestor gets an overlay (lower = the host directory, upper = a tmpfs
 *   private to the container) and the mount point is created in the overlay, so the host is not touched. A missing
 *   top-level directory (`/bodywork/project`, `/data`) cannot be made that way (`/` cannot be overlaid in place): such
 *   a container runs chrooted in a new root that binds every host top-level entry to itself and adds the new
 *   directories on a tmpfs (see containerSetupScript). Only without a `chroot` binary is that EMPTY directory created
 *   on the host root and left there (mount points of other pods may be using it). An overlaid directory hides the
 *   submounts below it inside that container.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ProcessUser } from '../kubelet/run-as.js';
import { killAndWait, run, shq, type NodeNetwork, type Tools } from './linux.js';

export interface ContainerMount {
  mountPath: string;
  /** Host path of the volume (or the subPath inside it). */
  source: string;
  readOnly: boolean;
  /**
   * The container's writable layer at an existing host directory (kubelet/writable-layer.ts): mounted after every
   * volume (their sources may lie below it, in the data dir under /tmp), with the host directory bound at
   * `<source>/<hostLink>`, where the layer's symlinks to the host's entries point.
   */
  layer?: { hostLink: string };
}

export interface PodFiles {
  hosts?: string;
  resolvConf?: string;
  hostname?: string;
}

/** Run by the shell inside a new root (chroot starts in `/`). */
const CD_SCRIPT = 'cd "$0" && exec "$@"';
/**
 * The container's stderr goes where its stdout goes, one pipe: read from two pipes, a traceback written just after a
 * line of output could reach the log before it (each chunk is stamped when it is read). The order matters more
 * than the stream tag, which `kubectl logs` does not show.
 */
export const ONE_OUTPUT = '2>&1';

/** `$0` of the mount setup script: how commandStarted tells it from a container command that is itself an `sh -c` script. */
const SETUP_ARG0 = 'sandbox-container-setup';

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
  const isDir = opts.isDir ?? ((p: string) => fs.statSync(p).isDirectory());
  // The setup's own tools come from the system PATH; the command is looked up in the container's PATH, as set.
  const lines = ['set -e', 'if [ -n "${PATH+x}" ]; then SBX_PATH=$PATH; fi', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin'];
  const hostDirs: string[] = [];
  const all: ContainerMount[] = [...mounts.map((m) => ({ ...m, mountPath: path.posix.normalize(m.mountPath).replace(/(.)\/+$/, '$1') }))];
  const taken = new Set(all.map((m) => m.mountPath));
  if (files.hosts && !taken.has('/etc/hosts')) all.push({ mountPath: '/etc/hosts', source: files.hosts, readOnly: false });
  if (files.resolvConf && !taken.has('/etc/resolv.conf')) all.push({ mountPath: '/etc/resolv.conf', source: files.resolvConf, readOnly: false });
  if (files.hostname && !taken.has('/etc/hostname')) all.push({ mountPath: '/etc/hostname', source: files.hostname, readOnly: false });
  const under = (p: string, dirs: string[]): boolean => dirs.some((d) => d === '/' || p === d || p.startsWith(d + '/'));
  // Parents before children (a volume inside another volume is mounted after it). A mount over a directory that holds
  // other mounts' sources (a volume at /tmp, where the sandbox keeps its data) goes after them, with what lies below it.
  const hiding = all.filter((m) => all.some((o) => o !== m && under(o.source, [m.mountPath]))).map((m) => m.mountPath);
  const late = (m: ContainerMount): number => (under(m.mountPath, hiding) ? 1 : 0);
  all.sort((a, b) => late(a) - late(b) || a.mountPath.split('/').length - b.mountPath.split('/').length || a.mountPath.localeCompare(b.mountPath));
  const topOf = (p: string): string => '/' + p.split('/')[1];
  const newTops = [...new Set(all.filter((m) => m.mountPath !== '/' && !exists(topOf(m.mountPath))).map((m) => topOf(m.mountPath)))];
  const root = newTops.length && opts.chroot ? `${scratch}/root` : '';
  let scratchMounted = false;
  const mountScratch = (): void => {
    if (scratchMounted) return;
    lines.push(`mount -t tmpfs -o mode=700 sandbox-scratch ${shq(scratch)}`);
    scratchMounted = true;
  };
  // Writable places where mount points are simply created: volumes, directories we overlaid, new top-level ones.
  const mounted: string[] = [];
  const overlaid: string[] = [];
  if (root) {
    mountScratch();
    lines.push(...newRootLines((opts.rootEntries ?? hostRootEntries)(), root, newTops, `${scratch}/fstab`));
    mounted.push(...newTops);
  }
  const R = (p: string): string => shq(root + p);
  for (const m of all) {
    const target = m.mountPath;
    if (m.layer) {
      // An existing host directory (after the mounts whose sources it holds, see `hiding`). The host's own directory
      // stays reachable inside the layer (a plain bind: mounts below the host directory are not carried), then the
      // layer, with that bind (hence rbind), replaces the directory in this container only.
      lines.push(`mount --bind ${shq(target)} ${shq(`${m.source}/${m.layer.hostLink}`)}`, `mount --rbind ${shq(m.source)} ${R(target)}`);
      mounted.push(target);
      continue;
    }
    let dir: boolean;
    try {
      dir = isDir(m.source);
    } catch {
      dir = true;
    }
    const make = dir ? `mkdir -p ${R(target)}` : `mkdir -p ${R(path.posix.dirname(target))} && : > ${R(target)}`;
    if (under(target, mounted) || under(target, overlaid)) {
      // Inside a volume (created in it, as runc does) or inside a directory we already overlaid or created.
      if (!exists(target) || under(target, mounted)) lines.push(`[ -e ${R(target)} ] || { ${make}; }`);
    } else if (!exists(target)) {
      let anc = path.posix.dirname(target);
      while (anc !== '/' && !exists(anc)) anc = path.posix.dirname(anc);
      if (anc === '/') {
        // No chroot: only the top-level directory is created on the host; the rest goes into an overlay on it.
        const top = topOf(target);
        if (!hostDirs.includes(top)) hostDirs.push(top);
        anc = top;
        if (top === target && dir) {
          lines.push(`mount --bind ${shq(m.source)} ${R(target)}`);
          if (m.readOnly) lines.push(`mount -o remount,bind,ro ${R(target)}`);
          mounted.push(target);
          continue;
        }
      }
      mountScratch();
      const n = overlaid.length;
      lines.push(`mkdir ${shq(`${scratch}/u${n}`)} ${shq(`${scratch}/w${n}`)}`);
      lines.push(`mount -t overlay sandbox-overlay -o ${shq(`lowerdir=${root}${anc},upperdir=${scratch}/u${n},workdir=${scratch}/w${n}`)} ${R(anc)}`);
      overlaid.push(anc);
      lines.push(make);
    }
    lines.push(`mount --bind ${shq(m.source)} ${R(target)}`);
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${R(target)}`);
    mounted.push(target);
  }
  const restorePath = 'if [ -n "${SBX_PATH+x}" ]; then PATH=$SBX_PATH; unset SBX_PATH; else unset PATH; fi';
  const rl = opts.rootless;
  if (rl) {
    const drop = `exec ${shq(rl.unshare)} --user --map-user=${rl.user.uid} --map-group=${rl.user.gid}`;
    const dir = cwd ? shq(cwd) : '"$PWD"';
    lines.push(restorePath, root ? `${drop} --root=${shq(root)} --wd=${dir} -- "$@" ${ONE_OUTPUT}` : `${cwd ? `cd ${dir} && ` : ''}${drop} -- "$@" ${ONE_OUTPUT}`);
  } else if (root) {
    // chroot(1) starts in `/`: a shell inside goes to the working directory (the inherited one by default).
    lines.push(restorePath, `exec ${shq(opts.chroot!)} ${shq(root)} /bin/sh -c ${shq(CD_SCRIPT)} ${cwd ? shq(cwd) : '"$PWD"'} "$@" ${ONE_OUTPUT}`);
  } else {
    if (cwd) lines.push(`cd ${shq(cwd)}`);
    lines.push(restorePath, `exec "$@" ${ONE_OUTPUT}`);
  }
  return { script: lines.join('\n'), hostDirs };
}

export interface PodSandbox {
  /** The pod's IP (the host's for hostNetwork pods). */
  readonly podIP: string;
  /** argv that runs `argv` as a container of this pod, as `user` (after the mount setup, which needs root). */
  containerArgv(argv: string[], mounts: ContainerMount[], cwd: string | undefined, user?: ProcessUser): string[];
  /** Whether the container process `pid` has got past the mount setup and exec'd its command. */
  commandStarted(pid: number): boolean;
  /** argv that runs `argv` inside the running container `containerPid` (exec probes), in its working directory, as `user`. */
  execArgv(containerPid: number, argv: string[], cwd?: string, user?: ProcessUser): string[];
  destroy(): Promise<void>;
}

export interface PodSandboxParams {
  tools: Tools;
  /** undefined for hostNetwork pods. */
  node: NodeNetwork | undefined;
  hostIP: string;
  hostname: string;
  podDir: string;
  files: PodFiles;
  log: (m: string) => void;
  /** Rootless: nsenter options entering the sandbox's user namespace (NodeNetwork.enter), and the user pods run as. */
  rootless?: { enter: string[]; user: ProcessUser };
}

/**
 * The holder: sets the hostname, reports ready, then waits for EOF on stdin. EOF without a kill first means the
 * sandbox process died: it then SIGKILLs every process left in the pod's network namespace (the containers) so
 * nothing outlives a crash. A normal teardown kills the holder before closing stdin, skipping that sweep.
 */
const HOLDER_SCRIPT = [
  // Rootless, /proc/sys/kernel/hostname stays the host root's file: sethostname(2) is allowed in our UTS namespace.
  '{ echo "$1" > /proc/sys/kernel/hostname; } 2>/dev/null || hostname "$1" || exit 1',
  'echo ready',
  'cat > /dev/null',
  'me=$(readlink /proc/$$/ns/net)',
  'for p in /proc/[0-9]*; do n=${p#/proc/}; [ "$n" != $$ ] && [ "$(readlink $p/ns/net 2>/dev/null)" = "$me" ] && kill -9 "$n" 2>/dev/null; done',
  'exit 0',
].join('\n');

export class IsolatedPodSandbox implements PodSandbox {
  private destroyed = false;
  private readonly scratch: string;

  private constructor(
    private readonly p: PodSandboxParams,
    readonly podIP: string,
    private readonly holder: ChildProcess | undefined,
  ) {
    this.scratch = path.join(p.podDir, 'scratch');
    fs.mkdirSync(this.scratch, { recursive: true });
  }

  static async create(p: PodSandboxParams): Promise<IsolatedPodSandbox> {
    if (!p.node) return new IsolatedPodSandbox(p, p.hostIP, undefined);
    const enter = p.rootless ? [p.tools.nsenter, ...p.rootless.enter, '--'] : [];
    const [file, ...args] = [...enter, p.tools.unshare, '--net', '--uts', '--ipc', '--', p.tools.sh, '-c', HOLDER_SCRIPT, 'sh', p.hostname];
    const holder = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    holder.stdin!.on('error', () => {});
    let ip: string | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        let err = '';
        const t = setTimeout(() => reject(new Error('timed out creating the pod network namespace')), 10_000);
        holder.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('ready\n')) {
            clearTimeout(t);
            resolve();
          }
        });
        holder.stderr!.on('data', (d: Buffer) => (err += d.toString()));
        holder.once('error', (e) => reject(e));
        holder.once('exit', (code) => reject(new Error(`unshare --net --uts exited with ${code}: ${err.trim()}`)));
      });
      holder.removeAllListeners('exit');
      holder.removeAllListeners('error');
      holder.on('error', () => {});
      ip = p.node.allocateIP();
      const veth = vethName(ip);
      await p.node.ipBatch([`link add ${veth} type veth peer name eth0 netns ${holder.pid}`, `link set ${veth} master br0`, `link set ${veth} up`]);
      await run(p.tools.nsenter, [...(p.rootless?.enter ?? []), `--net=/proc/${holder.pid}/ns/net`, '--', p.tools.ip, '-batch', '-'], [
        'link set lo up',
        `addr add ${ip}/24 dev eth0`,
        'link set eth0 up',
        `route add default via ${p.node.gateway}`,
        '',
      ].join('\n'));
      return new IsolatedPodSandbox(p, ip, holder);
    } catch (err) {
      await killAndWait(holder);
      holder.stdin?.end();
      if (ip) {
        await p.node.ipBatch([`link del ${vethName(ip)}`]).catch(() => undefined);
        p.node.releaseIP(ip);
      }
      throw err;
    }
  }

  containerArgv(argv: string[], mounts: ContainerMount[], cwd: string | undefined, user?: ProcessUser): string[] {
    const t = this.p.tools;
    const rootless = this.p.rootless && { unshare: t.unshare, user: this.p.rootless.user };
    const { script, hostDirs } = containerSetupScript(mounts, this.p.files, cwd, this.scratch, { chroot: t.chroot, ...(rootless ? { rootless } : {}) });
    for (const d of hostDirs) {
      if (!fs.existsSync(d)) {
        fs.mkdirSync(d, { recursive: true });
        this.p.log(`kubelet: created the empty mount point ${d} on the host root (a missing top-level mountPath)`);
      }
    }
    // The setup script mounts as root, then execs nsenter, which only drops to the user (setgroups, setgid, setuid) and
    // execs the command: no namespace is entered, so the same pid runs it.
    const cmd = user ? [t.nsenter, ...asUser(user), '--', ...argv] : argv;
    const inner = [t.unshare, '--mount', '--propagation', 'private', '--', t.sh, '-c', script, SETUP_ARG0, ...cmd];
    const enter = this.p.rootless?.enter ?? [];
    if (!this.holder) return enter.length ? [t.nsenter, ...enter, '--', ...inner] : inner;
    const ns = `/proc/${this.holder.pid}/ns`;
    return [t.nsenter, ...enter, `--net=${ns}/net`, `--uts=${ns}/uts`, `--ipc=${ns}/ipc`, '--', ...inner];
  }

  commandStarted(pid: number): boolean {
    let parts: string[];
    try {
      parts = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      return true; // gone: nothing to wait for
    }
    const t = this.p.tools;
    if ([t.nsenter, t.unshare, t.chroot].includes(parts[0])) return false;
    // Still in the setup script (told by its $0, not its text: a container's own command may be an `sh -c 'set -e…'`
    // script too, and probes must start when it does, as upstream's start at container start) or chroot's cd.
    return !((parts[0] === t.sh || parts[0] === '/bin/sh') && parts[1] === '-c' && (parts[3] === SETUP_ARG0 || parts[2] === CD_SCRIPT));
  }

  execArgv(containerPid: number, argv: string[], cwd?: string, user?: ProcessUser): string[] {
    const ns = this.holder ? ['--net', '--uts', '--ipc', '--mount'] : ['--mount'];
    // --root and --wd without a value: the container's root (a new root when it has new top-level directories) and
    // working directory (its workingDir). A path given to --wd would be resolved on the host, before entering.
    void cwd;
    const t = this.p.tools;
    const rl = this.p.rootless;
    if (!rl) return [t.nsenter, '--target', String(containerPid), ...ns, '--root', '--wd', ...(user ? asUser(user) : []), '--', ...argv];
    // Rootless: as root of the sandbox's user namespace, which has power over the container's own (containerSetupScript),
    // into the container's namespaces, its user namespace last: our uid is the container's user there.
    return [t.nsenter, ...rl.enter, '--', t.nsenter, '--preserve-credentials', '--target', String(containerPid), '--user', ...ns, '--root', '--wd', '--', ...argv];
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.holder) {
      const stdin = this.holder.stdin;
      await killAndWait(this.holder);
      stdin?.end();
      if (this.p.node) {
        await this.p.node.ipBatch([`link del ${vethName(this.podIP)}`]).catch(() => undefined);
        this.p.node.releaseIP(this.podIP);
      }
    }
  }
}

/** nsenter's --setuid/--setgid (with them it also clears the supplementary groups). */
function asUser(user: ProcessUser): string[] {
  return [`--setuid=${user.uid}`, `--setgid=${user.gid}`];
}

function vethName(ip: string): string {
  return `veth${ip.split('.')[3]}`;
}
