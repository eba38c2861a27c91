/**
 * Pod addresses for the host-network fallback (no network namespaces: not root, or isolation 'none').
 *
 * Linux routes all of 127.0.0.0/8 to the loopback interface, and binding any address in it needs no privilege and no
 * set-up. So each pod gets an address of its own there (127.1.0.1, 127.1.0.2, ...) as its pod IP: the endpoints,
 * the Service proxy and the probes use it, and two replicas listening on the same port do not clash, provided each
 * listens on its own address. A server binding the wildcard (`0.0.0.0`, `''`: Flask's `host="0.0.0.0"`,
 * http.server's default; a dual-stack `::`) would take the port on every address, so a `sitecustomize` module, put
 * first on the pods' PYTHONPATH (over the pod's own, by the kubelet), narrows such binds to the pod's address and
 * then runs the sitecustomize it shadows. The sandbox only runs Python images, whose servers all bind through
 * `socket.socket.bind`. Binds to one address (127.0.0.1 included: a sidecar's) are left as they are.
 * macOS routes only 127.0.0.1 to loopback, so there the fallback keeps the host's address (see podAddressesFor).
 *
 * Two sandboxes on one machine (two `deploy --sandbox`, test files run side by side) must not hand out the same
 * addresses, or their servers take each other's ports. So each claims blocks of 254 addresses (127.A.B.1-254) for
 * itself (`LoopbackBlocks`), and reuses an address once its pod is gone, the longest-free first.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { KubeObject } from '../types.js';

/** The environment variable the bind shim reads. */
export const POD_IP_VARIABLE = 'BODYWORK_SANDBOX_POD_IP';

const SITECUSTOMIZE = `# Written by the bodywork sandbox (network/loopback.ts): pods share the host network, each on its own loopback
# address; a bind to the wildcard address is narrowed to this pod's, so replicas can listen on the same port.
import os as _os
import socket as _socket
import sys as _sys

_pod_ip = _os.environ.get(${JSON.stringify(POD_IP_VARIABLE)})
if _pod_ip:
    _bind = _socket.socket.bind

    def _pod_bind(self, address):
        if isinstance(address, tuple) and address:
            if self.family == _socket.AF_INET and address[0] in ("", "0.0.0.0"):
                address = (_pod_ip,) + tuple(address[1:])
            elif self.family == _socket.AF_INET6 and address[0] in ("", "::"):
                # A dual-stack "::" takes the port on every IPv4 address too; the pod's own, IPv4-mapped, does not.
                address = ("::ffff:" + _pod_ip,) + tuple(address[1:])
        return _bind(self, address)

    _socket.socket.bind = _pod_bind

# This module shadows any other sitecustomize on the path (the image's, the project's, Debian's): run the next one.
def _run_next_sitecustomize():
    import importlib.machinery
    import importlib.util
    here = _os.path.dirname(_os.path.realpath(__file__))
    rest = [p for p in _sys.path if _os.path.realpath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))

_run_next_sitecustomize()
`;

/** Addresses in a block: 127.A.B.1 to 127.A.B.254. */
const PER_BLOCK = 254;
/** Blocks in 127.1.0.0-127.254.255.255. */
const BLOCKS = 254 * 256;
/** Free addresses left in the claimed blocks when the next block is claimed, ahead of need (claiming is asynchronous). */
const CLAIM_AHEAD = 32;

/**
 * The blocks of loopback addresses this sandbox holds, claimed machine-wide, lowest free first: a claim is a listening
 * socket in Linux's abstract UNIX namespace named after the block. The kernel refuses a second listener on a name and
 * frees it when its process ends however it ends, so a crashed sandbox leaves no stale claim behind, and two
 * sandboxes in one network namespace (the loopback addresses' scope too) never hold the same block.
 */
export class LoopbackBlocks {
  private readonly servers: net.Server[] = [];
  readonly held: number[] = [];
  private released = false;

  constructor(private readonly prefix = 'bodywork-sandbox-loopback') {}

  /** Claims the lowest free block. Where claims cannot be made at all, takes the next block unclaimed, as before claims. */
  async claim(): Promise<number> {
    for (let block = 0; block < BLOCKS; block++) {
      if (this.held.includes(block)) continue;
      const server = net.createServer();
      const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
        server.once('error', resolve);
        server.listen(`\0${this.prefix}/${block}`, () => resolve(undefined));
      });
      if (error?.code === 'EADDRINUSE') continue;
      // A claim made ahead of need that answers after the sandbox stopped is given back at once.
      if (error === undefined && this.released) server.close();
      else if (error === undefined) {
        server.unref();
        this.servers.push(server);
      }
      this.held.push(block);
      return block;
    }
    throw new Error('every block of loopback addresses is claimed by another sandbox');
  }

  release(): void {
    this.released = true;
    for (const s of this.servers.splice(0)) s.close();
  }
}

export class LoopbackAddresses {
  private readonly byPod = new Map<string, string>();
  /** Addresses handed out from the claimed blocks so far, in order. */
  private handedOut = 0;
  /** Addresses whose pods are gone, longest-free first: handed out again once the claimed blocks have none fresh. */
  private readonly free: string[] = [];
  private claiming: Promise<unknown> | undefined;

  private constructor(
    private readonly hostIP: string,
    /** The directory holding sitecustomize.py (readable by every pod user). */
    readonly shimDir: string,
    private readonly blocks: LoopbackBlocks,
    private readonly warn: (message: string) => void,
  ) {}

  /** Writes the bind shim under `dir` and claims a first block of addresses. */
  static async create(hostIP: string, dir: string, blocks = new LoopbackBlocks(), warn: (message: string) => void = (m) => console.warn(m)): Promise<LoopbackAddresses> {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(path.join(dir, 'sitecustomize.py'), SITECUSTOMIZE, { mode: 0o644 });
    await blocks.claim();
    return new LoopbackAddresses(hostIP, dir, blocks, warn);
  }

  /** The pod's IP: its own loopback address, or the host's for a hostNetwork pod. Stable for the pod's life. */
  addressOf(pod: KubeObject): string {
    if (pod.spec?.hostNetwork === true) return this.hostIP;
    const uid = pod.metadata.uid ?? `${pod.metadata.namespace}/${pod.metadata.name}`;
    let ip = this.byPod.get(uid);
    if (!ip) {
      ip = this.nextAddress();
      this.byPod.set(uid, ip);
    }
    return ip;
  }

  private nextAddress(): string {
    const capacity = this.blocks.held.length * PER_BLOCK;
    if (capacity - this.handedOut + this.free.length <= CLAIM_AHEAD && !this.claiming) {
      this.claiming = this.blocks.claim().then(
        () => (this.claiming = undefined),
        // Said once: no more claims are tried.
        (e: unknown) => this.warn(`bodywork sandbox: ${(e as Error).message}`),
      );
    }
    if (this.handedOut < capacity) {
      const n = this.handedOut++;
      return loopbackAddress(this.blocks.held[Math.floor(n / PER_BLOCK)]! * PER_BLOCK + (n % PER_BLOCK));
    }
    const reused = this.free.shift();
    if (reused !== undefined) return reused;
    // Only when the pods holding addresses outgrow the next claim before it answers: the pod is retried.
    throw new Error(`no loopback address is free for a pod: ${this.byPod.size} pods hold the ${capacity} claimed`);
  }

  /** Forgets a pod that is gone; its address may be handed out again. */
  release(uid: string): void {
    const ip = this.byPod.get(uid);
    if (ip === undefined) return;
    this.byPod.delete(uid);
    this.free.push(ip);
  }

  /** Resolves once a claim of another block, started ahead of need, has answered. */
  async claimed(): Promise<void> {
    await this.claiming;
  }

  /** Gives the claimed blocks back (the sandbox stops). */
  stop(): void {
    this.blocks.release();
  }

  /** Environment for a container of `pod`: the shim first on PYTHONPATH (before the image's own), and its address. */
  containerEnv(pod: KubeObject, baseEnv: Readonly<Record<string, string>>): Record<string, string> {
    if (pod.spec?.hostNetwork === true) return {};
    const rest = baseEnv.PYTHONPATH;
    return { [POD_IP_VARIABLE]: this.addressOf(pod), PYTHONPATH: rest ? `${this.shimDir}${path.delimiter}${rest}` : this.shimDir };
  }
}

/** The n-th address of 127.1.0.1 .. 127.254.255.254, skipping .0 and .255 in the last octet. */
export function loopbackAddress(n: number): string {
  const perBlock = 254;
  const blocks = 254 * 256;
  const i = n % (perBlock * blocks);
  const block = Math.floor(i / perBlock);
  return `127.${1 + Math.floor(block / 256)}.${block % 256}.${1 + (i % perBlock)}`;
}

/** Per-pod loopback addresses where the platform routes 127.0.0.0/8 to loopback (Linux); undefined elsewhere. */
export async function podAddressesFor(platform: NodeJS.Platform, hostIP: string, dir: string, warn?: (message: string) => void): Promise<LoopbackAddresses | undefined> {
  return platform === 'linux' && hostIP.startsWith('127.') ? LoopbackAddresses.create(hostIP, dir, new LoopbackBlocks(), warn) : undefined;
}
