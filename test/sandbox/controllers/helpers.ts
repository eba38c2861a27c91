/**
 * Test harness: the real store, the controllers, and the sandbox node (kubelet, pod network off) attached to an API
 * server on that store over HTTPS with its own identity — as startSandbox wires them — plus a store-driven waitFor.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClusterStore } from '../../../src/sandbox/apiserver/registry.js';
import { startApiServer, type ApiServer } from '../../../src/sandbox/apiserver/server.js';
import { startControllers, type ControllerOptions } from '../../../src/sandbox/controllers/index.js';
import type { Kubelet, KubeletOptions } from '../../../src/sandbox/kubelet/index.js';
import { certKubeconfig, nodeCredentials } from '../../../src/sandbox/node/credentials.js';
import { attachNode, type SandboxNode } from '../../../src/sandbox/node/index.js';
import { createCertificateAuthority } from '../../../src/sandbox/pki.js';
import type { Clock } from '../../../src/sandbox/machinery/clock.js';
import type { ClusterStore, KubeObject } from '../../../src/sandbox/types.js';

export interface Harness {
  store: ClusterStore;
  kubelet: Kubelet;
  node: SandboxNode;
  server: ApiServer;
  dataDir: string;
  logs: string[];
  stop(): Promise<void>;
}

export type HarnessKubeletOptions = Partial<Omit<KubeletOptions, 'events' | 'clock'>> & { nodeCapacity?: { cpu?: string; memory?: string } };

/** `clock`: the node's (its kubelet's, its Events'), and the controllers' unless `controllers.clock` says otherwise. */
export async function startHarness(opts: { controllers?: Partial<ControllerOptions>; kubelet?: HarnessKubeletOptions; clock?: Clock } = {}): Promise<Harness> {
  const store = createClusterStore();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-test-'));
  const logs: string[] = [];
  const log = (m: string): void => {
    logs.push(m);
  };
  const controllers = startControllers(store, { nodeName: 'sandbox', jobBackoffBaseMs: 50, log, clock: opts.clock, ...opts.controllers });
  const ca = await createCertificateAuthority('harness-ca');
  const creds = await nodeCredentials(ca, { nodeName: 'sandbox', hostIP: '127.0.0.1' });
  const server = await startApiServer({ store, ca, kubeletClient: { ...creds.apiServerKubeletClient, ca: ca.cert } });
  const { nodeCapacity, ...kubelet } = opts.kubelet ?? {};
  const node = await attachNode({
    kubeconfig: certKubeconfig(server.url, ca.cert, creds.node, 'system:node:sandbox'),
    nodeName: 'sandbox',
    dataDir,
    capacity: nodeCapacity,
    isolation: 'none',
    warn: () => {},
    serving: { ...creds.kubeletServing, clientCA: ca.cert },
    kubelet: { crashLoopBackOffBaseMs: 300, crashLoopBackOffMaxMs: 2000, configRetryMs: 200, maxGracePeriodMs: 2000, ...kubelet },
    log,
    clock: opts.clock,
  });
  return {
    store,
    kubelet: node.kubelet,
    node,
    server,
    dataDir,
    logs,
    async stop() {
      await controllers.stop();
      await node.stop();
      await server.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Resolves with the predicate's first truthy value, re-evaluated after every store change (and every `pollMs` for
 * conditions outside the store); rejects after `timeoutMs` with the description and the last value seen.
 */
export function waitFor<T>(store: ClusterStore, predicate: () => T | undefined | false | null, what: string, timeoutMs = 20_000, pollMs?: number): Promise<T> {
  return new Promise((resolve, reject) => {
    let done = false;
    let last: unknown;
    const check = (): void => {
      if (done) return;
      try {
        const v = predicate();
        last = v;
        if (v) {
          finish();
          resolve(v);
        }
      } catch (err) {
        last = err;
      }
    };
    const unsubscribe = store.subscribe(() => setImmediate(check));
    const poll = pollMs ? setInterval(check, pollMs) : undefined;
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`timed out after ${timeoutMs}ms waiting for ${what} (last: ${JSON.stringify(last)?.slice(0, 2000)})`));
    }, timeoutMs);
    function finish(): void {
      done = true;
      unsubscribe();
      if (poll) clearInterval(poll);
      clearTimeout(timer);
    }
    check();
  });
}

export function podsOf(store: ClusterStore, ns: string, ownerUid: string): KubeObject[] {
  return store.list('pods', ns).items.filter((p) => p.metadata.ownerReferences?.some((r) => r.uid === ownerUid));
}

export function eventsFor(store: ClusterStore, ns: string, name: string): KubeObject[] {
  return store.list('events', ns).items.filter((e) => e.involvedObject?.name === name);
}

/** A Deployment of `app: <name>` pods (one busybox container unless `podSpec` says otherwise). */
export function deployment(name: string, spec: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      ...spec,
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'busybox' }], ...podSpec } },
    },
  };
}

export function job(name: string, script: string, spec: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: {
      backoffLimit: 2,
      ...spec,
      template: { spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', script] }], ...podSpec } },
    },
  };
}

/** Whether a process still runs (a zombie waiting for its reaper counts as gone). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}
