/**
 * The embedded Kubernetes sandbox: an API server speaking the Kubernetes REST protocol on
 * 127.0.0.1, the controllers our deploys depend on, and a kubelet that runs containers' commands
 * as local processes. Images are labels, not pulled; there is one node.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { createClusterStore } from './apiserver/registry.js';
import { startApiServer, type FaultOptions } from './apiserver/index.js';
import { startControllers, type ControllerOptions } from './controllers/index.js';
import { startKubelet, type KubeletOptions } from './kubelet/index.js';
import type { ClusterStore } from './types.js';

export interface SandboxOptions {
  /** Port to listen on (0 or unset: any free port). */
  port?: number;
  /** Where pods' volumes and logs live; a temporary directory (removed on stop) when unset. */
  dataDir?: string;
  /** Write a kubeconfig for the sandbox to this path once it answers. */
  kubeconfigPath?: string;
  /** Namespace the kubeconfig's context points at. */
  namespace?: string;
  faults?: FaultOptions;
  controllers?: Partial<ControllerOptions>;
  kubelet?: Partial<Omit<KubeletOptions, 'dataDir' | 'nodeName' | 'events'>>;
}

export interface Sandbox {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** A kubeconfig (YAML) for the sandbox: token user, `insecure-skip-tls-verify` (client-node needs it for http://). */
  kubeconfig: string;
  store: ClusterStore;
  /** Where pods' volumes and logs live. */
  dataDir: string;
  /** Stops the server, the controllers and every process the kubelet started. */
  stop(): Promise<void>;
}

export const SANDBOX_NODE_NAME = 'sandbox';
export const SANDBOX_CONTEXT = 'bodywork-sandbox';

/** Renders the kubeconfig a client needs to reach the sandbox at `url`. */
export function sandboxKubeconfig(url: string, namespace = 'default'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: SANDBOX_CONTEXT, cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    // kubectl sends no credentials over plain HTTP; client-node does. The server accepts both.
    users: [{ name: SANDBOX_CONTEXT, user: { token: 'sandbox' } }],
    contexts: [{ name: SANDBOX_CONTEXT, context: { cluster: SANDBOX_CONTEXT, user: SANDBOX_CONTEXT, namespace } }],
    'current-context': SANDBOX_CONTEXT,
  });
}

/** Starts a sandbox; resolves once the API server answers. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'bodywork-sandbox-'));
  mkdirSync(dataDir, { recursive: true });
  const store = createClusterStore();
  const controllers = startControllers(store, { nodeName: SANDBOX_NODE_NAME, ...options.controllers });
  // One event recorder, so the kubelet's events aggregate with the controllers' as on a cluster.
  const kubelet = startKubelet(store, { ...options.kubelet, nodeName: SANDBOX_NODE_NAME, dataDir, events: controllers.events });
  const server = await startApiServer({ store, logs: kubelet.logs, port: options.port ?? 0, host: '127.0.0.1', faults: options.faults });
  const kubeconfig = sandboxKubeconfig(server.url, options.namespace);
  if (options.kubeconfigPath) {
    mkdirSync(dirname(options.kubeconfigPath), { recursive: true });
    writeFileSync(options.kubeconfigPath, kubeconfig, { mode: 0o600 });
  }
  let stopped: Promise<void> | undefined;
  return {
    url: server.url,
    kubeconfig,
    store,
    dataDir,
    stop: () =>
      (stopped ??= (async () => {
        // Kubelet first: no process may outlive the sandbox, whatever else fails.
        await kubelet.stop();
        await controllers.stop();
        await server.close();
        if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
      })()),
  };
}
