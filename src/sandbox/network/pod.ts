/**
 * A pod's sandbox ("pause container"): its network, UTS and IPC namespaces, shared by all its containers, and the
 * per-container mount namespaces that put volumes at their real mountPath.
 *
 * - Network/UTS/IPC: a holder process `unshare --net --uts --ipc -- sh -c '…; cat; …'` (at EOF on its stdin, a pipe
 *   from the kubelet's process, i.e. when the sandbox process died, it kills what is left in the pod and exits); a
 *   veth pair from the node namespace's bridge to the pod's `eth0` with the pod IP/24, default route via the
 *   bridge's gateway; loopback up; hostname = the pod's hostname. `hostNetwork: true` pods skip all of this and use
 *   the host's network.
 * - Mounts: each container starts in a mount namespace of its own, prepared by a setup script (container-setup.ts)
 *   that puts every volume at its real mountPath.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ProcessUser } from '../kubelet/run-as.js';
import { CD_SCRIPT, SETUP_ARG0, containerSetupScript, type ContainerMount, type PodFiles } from './container-setup.js';
import { killAndWait, type NodeNetwork, type Tools } from './linux.js';

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
 * The holder: in the pod's new namespaces it sets the hostname and makes the pod's network itself (a veth pair with
 * its peer in the node namespace on the bridge, eth0 with the pod IP, loopback, the default route), reports ready,
 * then reads its stdin. `stop` (a teardown) deletes the veth pair and exits. EOF without `stop` means the sandbox
 * process died: it then SIGKILLs every process left in the pod's network namespace (the containers) so nothing
 * outlives a crash, and the pair goes with the namespace.
 *
 * Why the holder does it and not the kubelet: each process the kubelet starts forks the whole sandbox process, which
 * blocks its event loop for as long as copying its page tables takes (libuv forks on Linux; tens of milliseconds at a
 * few hundred MB, nodejs/node#14917), so a pod's start went from three such forks to one.
 *
 * Arguments: $1 ip, $2 nsenter, $3 the node namespace's pid, $4 the veth's node end, $5 the pod IP, $6 the gateway,
 * $7 the hostname (last, which tests find the holder by).
 */
const HOLDER_SCRIPT = [
  'ip=$1; nsenter=$2; node=$3; veth=$4; addr=$5; gateway=$6; name=$7',
  // Rootless, /proc/sys/kernel/hostname stays the host root's file: sethostname(2) is allowed in our UTS namespace.
  '{ echo "$name" > /proc/sys/kernel/hostname; } 2>/dev/null || hostname "$name" || exit 1',
  '"$ip" link add eth0 type veth peer name "$veth" netns "$node" || exit 1',
  `printf '%s\\n' "link set $veth master br0" "link set $veth up" | "$nsenter" --net="/proc/$node/ns/net" -- "$ip" -batch - || exit 1`,
  `printf '%s\\n' "link set lo up" "addr add $addr/24 dev eth0" "link set eth0 up" "route add default via $gateway" | "$ip" -batch - || exit 1`,
  'echo ready',
  'read -r line || line=',
  'if [ "$line" = stop ]; then "$ip" link del eth0 2>/dev/null; exit 0; fi',
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
    const tools = p.tools;
    const ip = p.node.allocateIP();
    const enter = p.rootless ? [tools.nsenter, ...p.rootless.enter, '--'] : [];
    const holderArgs = [tools.ip, tools.nsenter, String(p.node.pid), vethName(ip), ip, p.node.gateway, p.hostname];
    const [file, ...args] = [...enter, tools.unshare, '--net', '--uts', '--ipc', '--', tools.sh, '-c', HOLDER_SCRIPT, 'sh', ...holderArgs];
    const holder = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    holder.stdin!.on('error', () => {});
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
        holder.once('exit', (code) => reject(new Error(`the pod's namespace holder exited with ${code}: ${err.trim()}`)));
      });
      holder.removeAllListeners('exit');
      holder.removeAllListeners('error');
      holder.on('error', () => {});
      return new IsolatedPodSandbox(p, ip, holder);
    } catch (err) {
      await killAndWait(holder);
      holder.stdin?.end();
      // The pair goes with the namespace; deleting it now frees its name at once (the namespace's cleanup is asynchronous).
      await p.node.ipBatch([`link del ${vethName(ip)}`]).catch(() => undefined);
      p.node.releaseIP(ip);
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
    const { holder } = this;
    if (!holder || !this.p.node) return;
    // `stop`: the holder deletes the veth pair and exits. One that does not (stuck, or gone) is killed, and the pair
    // deleted from the node's side.
    const stopped = await new Promise<boolean>((resolve) => {
      if (holder.exitCode !== null || holder.signalCode !== null) return resolve(false);
      const t = setTimeout(() => resolve(false), 2000);
      holder.once('exit', (code) => {
        clearTimeout(t);
        resolve(code === 0);
      });
      holder.stdin!.end('stop\n');
    });
    if (!stopped) {
      await killAndWait(holder);
      await this.p.node.ipBatch([`link del ${vethName(this.podIP)}`]).catch(() => undefined);
    }
    this.p.node.releaseIP(this.podIP);
  }
}

/** nsenter's --setuid/--setgid (with them it also clears the supplementary groups). */
function asUser(user: ProcessUser): string[] {
  return [`--setuid=${user.uid}`, `--setgid=${user.gid}`];
}

function vethName(ip: string): string {
  return `veth${ip.split('.')[3]}`;
}
