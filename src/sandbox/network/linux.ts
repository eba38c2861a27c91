/**
 * Linux plumbing for the sandbox's pod network (see network/index.ts for the design): running `ip`/`nsenter`, the
 * per-sandbox "node" network namespace with its bridge, and one network namespace per pod.
 *
 * Every namespace is held by a process we started whose lifetime is tied to ours:
 * - the node namespace by a small Node.js helper (`unshare --net -- node -e …`) that exits when its IPC channel to
 *   this process closes (our exit or crash included);
 * - each pod namespace by `unshare --net --uts -- sh -c '… exec cat'`, which exits at EOF on its stdin (a pipe
 *   from this process).
 * A network namespace disappears with the last process in it, and its interfaces with it: a veth pair goes when
 * either end's namespace goes, so the host-side link, the bridge, the pods' veths and the host route vanish even
 * when this process is SIGKILLed. Nothing is ever named in /run/netns, and no iptables rules are involved.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { directDial, type Dialer } from './dial.js';

export interface Tools {
  ip: string;
  unshare: string;
  nsenter: string;
  sh: string;
  /** Optional: lets containers get new top-level directories without touching the host root (container-setup.ts). */
  chroot?: string;
}

/** Absolute path of an executable in PATH, or undefined. */
export function findExecutable(name: string, pathEnv = process.env.PATH ?? ''): string | undefined {
  if (name.includes('/')) return fs.existsSync(name) ? name : undefined;
  for (const dir of [...pathEnv.split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Runs a command; rejects with its stderr. */
export function run(file: string, args: string[], input?: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(file)} ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end(input ?? '');
  });
}

/** Single-quotes a string for sh. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Kills a process (and its group when it leads one) and resolves once it has exited. */
export function killAndWait(child: ChildProcess, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(resolve, timeoutMs);
    t.unref();
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    try {
      child.kill('SIGKILL');
    } catch {
      resolve();
    }
  });
}

// The helper that holds the node namespace: creates listening sockets inside it on request and hands them to us
// over the IPC channel (the socket keeps belonging to the namespace it was created in). It exits with the channel.
// Rootless (no route from the host into the namespace), it also connects to pod IPs on request and hands over the
// connected socket, paused before connecting so no byte is read here.
const NODE_HELPER = `
const net = require('node:net');
process.on('disconnect', () => process.exit(0));
process.on('message', (m) => {
  if (m && m.op === 'listen') {
    const s = net.createServer({ pauseOnConnect: true });
    s.once('error', (e) => process.send({ id: m.id, error: e.message, code: e.code }));
    s.listen({ host: m.host, port: m.port, exclusive: true }, () => process.send({ id: m.id }, s, () => s.close()));
  } else if (m && m.op === 'connect') {
    const s = net.connect({ host: m.host, port: m.port });
    s.pause();
    const t = setTimeout(() => s.destroy(Object.assign(new Error('connect ETIMEDOUT ' + m.host + ':' + m.port), { code: 'ETIMEDOUT' })), m.timeoutMs);
    s.once('error', (e) => {
      clearTimeout(t);
      process.send({ id: m.id, error: e.message, code: e.code });
    });
    s.once('connect', () => {
      clearTimeout(t);
      s.removeAllListeners('error');
      s.on('error', () => {});
      process.send({ id: m.id }, s);
    });
  }
});
process.send({ ready: true });
`;

/** Alias written on the host-side link, so a later run can tell whose link it is. */
const ALIAS_PREFIX = 'bodywork-sandbox pid=';
export const LINK_PREFIX = 'bwsbx';
/** Pod subnets: 10.244.<index>.0/24, one per sandbox. */
export const POD_NET_PREFIX = '10.244';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

/** Whether an IPv4 prefix (a.b.c.d/len) overlaps another. */
function overlaps(a: string, b: string): boolean {
  const [ia, la] = a.split('/');
  const [ib, lb] = b.split('/');
  const len = Math.min(Number(la ?? 32), Number(lb ?? 32));
  if (len === 0) return true;
  const mask = len === 32 ? 0xffffffff : (0xffffffff << (32 - len)) >>> 0;
  return ((ipToInt(ia) & mask) >>> 0) === ((ipToInt(ib) & mask) >>> 0);
}

/**
 * The per-sandbox node network: a network namespace with bridge `br0` (gateway 10.244.N.1/24, pods .2–.252), joined
 * to the host by a veth pair (host side `bwsbxN` 10.244.N.254 — peer 10.244.N.253 in the namespace) and a host route
 * for 10.244.N.0/24. Cluster IPs (10.96.0.0/12) are local in the namespace only (an AnyIP `local` route on its
 * loopback), so sandboxes never compete for them and the host's own 10.96/12 routes (a CI runner inside a cluster)
 * are left alone.
 *
 * Rootless (not root): the helper is `unshare --user --map-root-user --net`, root of a user namespace that maps
 * only our uid and owns every namespace made for this sandbox; `ip` and the pod holders run after entering it
 * (`enter`). No veth or route can reach the host, so the host connects to pods through the helper (`dial`).
 */
export class NodeNetwork {
  readonly cidr: string;
  readonly gateway: string;
  private readonly free: number[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, (m: { error?: string; code?: string }, handle?: unknown) => void>();
  private closed = false;

  private constructor(
    readonly tools: Tools,
    readonly index: number,
    /** The host end of the uplink; undefined rootless. */
    readonly hostLink: string | undefined,
    private readonly helper: ChildProcess,
  ) {
    this.cidr = `${POD_NET_PREFIX}.${index}.0/24`;
    this.gateway = `${POD_NET_PREFIX}.${index}.1`;
    for (let i = 2; i <= 252; i++) this.free.push(i);
    helper.on('message', (m: any, handle: unknown) => {
      const cb = m && typeof m.id === 'number' ? this.pending.get(m.id) : undefined;
      if (!cb) return;
      this.pending.delete(m.id);
      cb(m, handle);
    });
    helper.on('exit', () => {
      for (const cb of this.pending.values()) cb({ error: 'node network helper exited' });
      this.pending.clear();
    });
  }

  get rootless(): boolean {
    return this.hostLink === undefined;
  }

  /** nsenter options that enter the sandbox's user namespace first (rootless; none as root). */
  get enter(): string[] {
    // --preserve-credentials: setgroups(2) is denied in a user namespace an unprivileged user made.
    return this.rootless ? ['--preserve-credentials', `--user=/proc/${this.helper.pid}/ns/user`] : [];
  }

  /** The pid holding the node namespace (`ip link … netns <pid>`). */
  get pid(): number {
    return this.helper.pid!;
  }

  /** `/proc/<pid>/ns/net` of the node namespace. */
  get netns(): string {
    return `/proc/${this.helper.pid}/ns/net`;
  }

  /** Runs `ip -batch -` inside the node namespace. */
  ipBatch(lines: string[]): Promise<string> {
    return run(this.tools.nsenter, [...this.enter, `--net=${this.netns}`, '--', this.tools.ip, '-batch', '-'], lines.join('\n') + '\n');
  }

  static async create(tools: Tools, log: (m: string) => void, o: { rootless?: boolean } = {}): Promise<NodeNetwork> {
    if (!o.rootless) await sweepStaleLinks(tools, log);
    const helper = spawn(tools.unshare, [...(o.rootless ? ['--user', '--map-root-user'] : []), '--net', '--', process.execPath, '-e', NODE_HELPER], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      detached: true,
      serialization: 'json',
    });
    let stderr = '';
    helper.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('timed out starting the node network helper')), 10_000);
        helper.once('message', () => {
          clearTimeout(t);
          resolve();
        });
        helper.once('error', (e) => reject(e));
        helper.once('exit', (code) => reject(new Error(`unshare --net exited with ${code}: ${stderr.trim()}`)));
      });
      helper.removeAllListeners('exit');
      helper.removeAllListeners('error');
      helper.on('error', () => {});
      const start = 1 + Math.floor(Math.random() * 250);
      // Rootless, the subnet exists only inside namespaces no one else sees: any /24 will do.
      if (o.rootless) return await NodeNetwork.configured(new NodeNetwork(tools, start, undefined, helper));
      // Pick a free /24: the host-side link name is the lock (creating it fails with "File exists" if taken).
      const routes = (await run(tools.ip, ['-o', '-4', 'route', 'show', 'table', 'all']))
        .split('\n')
        .map((l) => l.split(/\s+/).find((w, i) => i <= 1 && /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(w)))
        .filter((p): p is string => !!p && Number(p.split('/')[1] ?? 32) >= 16);
      for (let k = 0; k < 250; k++) {
        const index = 1 + ((start + k) % 250);
        const cidr = `${POD_NET_PREFIX}.${index}.0/24`;
        if (routes.some((r) => overlaps(r, cidr))) continue;
        const link = `${LINK_PREFIX}${index}`;
        try {
          await run(tools.ip, ['link', 'add', link, 'type', 'veth', 'peer', 'name', 'uplink', 'netns', String(helper.pid)]);
        } catch (err) {
          if (/exists/i.test((err as Error).message)) continue;
          throw err;
        }
        return await NodeNetwork.configured(new NodeNetwork(tools, index, link, helper));
      }
      throw new Error(`no free pod subnet in ${POD_NET_PREFIX}.0.0/16`);
    } catch (err) {
      await killAndWait(helper);
      throw err;
    }
  }

  private static async configured(nn: NodeNetwork): Promise<NodeNetwork> {
    try {
      await nn.configure();
      return nn;
    } catch (err) {
      await nn.close();
      throw err;
    }
  }

  private async configure(): Promise<void> {
    const i = this.index;
    const peer = `${POD_NET_PREFIX}.${i}.253`;
    const hostAddress = `${POD_NET_PREFIX}.${i}.254`;
    if (this.hostLink) {
      await run(this.tools.ip, ['-batch', '-'], [
        `link set dev ${this.hostLink} alias "${ALIAS_PREFIX}${process.pid}"`,
        `addr add ${hostAddress} peer ${peer} dev ${this.hostLink}`,
        `link set ${this.hostLink} up`,
        `route add ${this.cidr} via ${peer} dev ${this.hostLink}`,
        '',
      ].join('\n'));
    }
    await this.ipBatch([
      'link set lo up',
      ...(this.hostLink ? [`addr add ${peer} peer ${hostAddress} dev uplink`, 'link set uplink up'] : []),
      // A fixed MAC: a bridge otherwise takes the lowest MAC of its ports, so it changes as pods come and go and
      // every pod's ARP entry for the gateway goes stale (seconds of lost packets after each new pod).
      `link add br0 address 02:62:77:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:01 type bridge`,
      `addr add ${this.gateway}/24 dev br0`,
      'link set br0 up',
      // AnyIP: every cluster IP is local here, so the proxy can listen on any of them.
      'route add local 10.96.0.0/12 dev lo',
    ]);
    // Routing between the bridge and the uplink, and ARP answers for the host address on the bridge (pods see
    // 10.244.N.254 inside their /24), at once: the kernel delays a proxy ARP answer by a random part of
    // neigh/br0/proxy_delay (0.8 s by default), which every pod's first packet back to the host (a probe's SYN-ACK,
    // a Service's first reply) waited for.
    await run(this.tools.nsenter, [
      ...this.enter,
      `--net=${this.netns}`,
      '--',
      this.tools.sh,
      '-c',
      'echo 1 > /proc/sys/net/ipv4/ip_forward && echo 1 > /proc/sys/net/ipv4/conf/br0/proxy_arp && echo 0 > /proc/sys/net/ipv4/neigh/br0/proxy_delay',
    ]);
  }

  allocateIP(): string {
    const n = this.free.shift();
    if (n === undefined) throw new Error(`pod subnet ${this.cidr} is exhausted`);
    return `${POD_NET_PREFIX}.${this.index}.${n}`;
  }

  releaseIP(ip: string): void {
    const n = Number(ip.split('.')[3]);
    if (ip.startsWith(`${POD_NET_PREFIX}.${this.index}.`) && !this.free.includes(n)) this.free.push(n);
  }

  private request<T>(msg: Record<string, unknown>): Promise<T> {
    if (this.closed || !this.helper.connected) return Promise.reject(new Error('node network is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (m, handle) => (m.error || !handle ? reject(Object.assign(new Error(m.error ?? 'no socket'), { code: m.code })) : resolve(handle as T)));
      this.helper.send({ ...msg, id });
    });
  }

  /** A listening socket on host:port inside the node namespace (connections arrive paused). */
  listen(host: string, port: number): Promise<net.Server> {
    return this.request({ op: 'listen', host, port });
  }

  /** A connection to host:port: to a pod IP rootless, made inside the node namespace; else from this process's network. */
  dial: Dialer = (host, port, timeoutMs = 5000) =>
    this.rootless && overlaps(host, this.cidr) ? this.request<net.Socket>({ op: 'connect', host, port, timeoutMs }) : directDial(host, port, timeoutMs);

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.helper.connected) this.helper.disconnect();
    } catch {
      /* gone */
    }
    await killAndWait(this.helper);
    // The namespace goes with its last process; deleting the host end takes the pair and the route at once
    // instead of waiting for the kernel's asynchronous namespace cleanup.
    if (this.hostLink) await run(this.tools.ip, ['link', 'del', this.hostLink]).catch(() => undefined);
  }
}

/** Deletes `bwsbxN` links left by a sandbox process that no longer exists (normally they vanish by themselves). */
export async function sweepStaleLinks(tools: Tools, log: (m: string) => void): Promise<void> {
  const out = await run(tools.ip, ['-o', 'link', 'show']).catch(() => '');
  for (const line of out.split('\n')) {
    const m = new RegExp(`^\\d+:\\s+(${LINK_PREFIX}\\d+)[@:]`).exec(line);
    if (!m) continue;
    // A link without the alias may be one another sandbox is configuring right now: leave it.
    const a = /alias bodywork-sandbox pid=(\d+)/.exec(line);
    if (!a || pidAlive(Number(a[1]))) continue;
    log(`network: removing stale link ${m[1]} of exited process ${a[1]}`);
    await run(tools.ip, ['link', 'del', m[1]]).catch(() => undefined);
  }
}
