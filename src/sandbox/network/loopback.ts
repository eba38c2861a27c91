/**
 * Pod addresses for the host-network fallback (no network namespaces: not root, or isolation 'none').
 *
 * Linux routes all of 127.0.0.0/8 to the loopback interface, and binding any address in it needs no privilege and no
 * set-up. So each pod gets an address of its own there (127.1.0.1, 127.1.0.2, ...) as its pod IP: the endpoints,
 * the Service proxy and the probes use it, and two replicas listening on the same port do not clash, provided each
 * listens on its own address. A server binding the wildcard (`0.0.0.0`, `''`: Flask's `host="0.0.0.0"`,
 * http.server's default) would take the port on every address, so a `sitecustomize` module, put first on the pods'
 * PYTHONPATH, narrows such binds to the pod's address. The sandbox only runs Python images, whose servers all bind
 * through `socket.socket.bind`. Binds to one address (127.0.0.1 included: a sidecar's) are left as they are.
 * macOS routes only 127.0.0.1 to loopback, so there the fallback keeps the host's address (see podAddressesFor).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { KubeObject } from '../types.js';

/** The environment variable the bind shim reads. */
export const POD_IP_VARIABLE = 'BODYWORK_SANDBOX_POD_IP';

const SITECUSTOMIZE = `# Written by the bodywork sandbox (network/loopback.ts): pods share the host network, each on its own loopback
# address; a bind to the wildcard address is narrowed to this pod's, so replicas can listen on the same port.
import os as _os
import socket as _socket

_pod_ip = _os.environ.get(${JSON.stringify(POD_IP_VARIABLE)})
if _pod_ip:
    _bind = _socket.socket.bind

    def _pod_bind(self, address):
        if self.family == _socket.AF_INET and isinstance(address, tuple) and address[0] in ("", "0.0.0.0"):
            address = (_pod_ip,) + tuple(address[1:])
        return _bind(self, address)

    _socket.socket.bind = _pod_bind
`;

export class LoopbackAddresses {
  private readonly byPod = new Map<string, string>();
  /** Addresses handed out so far; never reused while the sandbox runs (16 million of them before a wrap). */
  private next = 0;

  private constructor(
    private readonly hostIP: string,
    /** The directory holding sitecustomize.py (readable by every pod user). */
    readonly shimDir: string,
  ) {}

  /** Writes the bind shim under `dir`. */
  static create(hostIP: string, dir: string): LoopbackAddresses {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(path.join(dir, 'sitecustomize.py'), SITECUSTOMIZE, { mode: 0o644 });
    return new LoopbackAddresses(hostIP, dir);
  }

  /** The pod's IP: its own loopback address, or the host's for a hostNetwork pod. Stable for the pod's life. */
  addressOf(pod: KubeObject): string {
    if (pod.spec?.hostNetwork === true) return this.hostIP;
    const uid = pod.metadata.uid ?? `${pod.metadata.namespace}/${pod.metadata.name}`;
    let ip = this.byPod.get(uid);
    if (!ip) {
      ip = loopbackAddress(this.next++);
      this.byPod.set(uid, ip);
    }
    return ip;
  }

  /** Forgets a pod that is gone. */
  release(uid: string): void {
    this.byPod.delete(uid);
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
export function podAddressesFor(platform: NodeJS.Platform, hostIP: string, dir: string): LoopbackAddresses | undefined {
  return platform === 'linux' && hostIP.startsWith('127.') ? LoopbackAddresses.create(hostIP, dir) : undefined;
}
