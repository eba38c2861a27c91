/** A sandbox API server on 127.0.0.1 (fresh store) and a KubeClient talking to it through its kubeconfig (HTTPS, token). */
import { createClusterStore } from '../../../src/sandbox/apiserver/registry.js';
import { LIFECYCLE_CONTROLLERS, startControllers } from '../../../src/sandbox/controllers/index.js';
import { startApiServer, type ApiServer, type ApiServerOptions, type FaultOptions } from '../../../src/sandbox/apiserver/index.js';
import { KubeClient, loadKubeConfig, type KubeClientOptions } from '../../../src/engine/kube/index.js';
import { sandboxKubeconfig } from '../../../src/sandbox/kubeconfig.js';
import { RecordingLogger } from '../../../src/engine/logger.js';

export interface TestCluster {
  server: ApiServer;
  store: ReturnType<typeof createClusterStore>;
  client: KubeClient;
  logger: WaitableLogger;
  kubeconfig: string;
  /** A new client (own counters) for the same server. */
  newClient(options?: KubeClientOptions): KubeClient;
  stop(): Promise<void>;
}

/** A kubeconfig for a plain-HTTP test server: a token user and insecure-skip-tls-verify (client-node refuses http:// without it). */
export function kubeconfigFor(url: string, namespace = 'default'): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: sandbox',
    '  cluster:',
    `    server: ${url}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: sandbox',
    '  user:',
    '    token: sandbox-token-1234',
    'contexts:',
    '- name: sandbox',
    '  context:',
    '    cluster: sandbox',
    '    user: sandbox',
    `    namespace: ${namespace}`,
    'current-context: sandbox',
    '',
  ].join('\n');
}

export async function startTestCluster(faults?: FaultOptions, options: KubeClientOptions = {}, serverOptions: Partial<ApiServerOptions> = {}): Promise<TestCluster> {
  const store = createClusterStore();
  // The lifecycle controllers only (pods need their namespace's `default` ServiceAccount; namespaces must go).
  const controllers = startControllers(store, { enabled: [...LIFECYCLE_CONTROLLERS] });
  const server = await startApiServer({ store, port: 0, host: '127.0.0.1', faults, ...serverOptions });
  const kubeconfig = sandboxKubeconfig(server);
  const logger = new WaitableLogger();
  const newClient = (o: KubeClientOptions = options) => KubeClient.create(loadKubeConfig({ content: kubeconfig }).kc, logger, { retry: { baseMs: 20, capMs: 200 }, ...o });
  return { server, store, client: newClient(), logger, kubeconfig, newClient, stop: async () => {
      await controllers.stop();
      await server.close();
    },
  };
}

let counter = 0;
/** A name no other test in the file uses. */
export function uniqueName(prefix: string): string {
  counter++;
  return `${prefix}-${counter}-${Math.random().toString(36).slice(2, 7)}`;
}

export function configMap(namespace: string, name: string, data: Record<string, string> = {}) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data };
}

/** A RecordingLogger that lets a test wait for a message (event-driven, no polling). */
export class WaitableLogger extends RecordingLogger {
  private waiters: { pred: (messages: string[]) => boolean; resolve: () => void }[] = [];
  override debug(message: string): void {
    super.debug(message);
    const msgs = this.messages('debug');
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(msgs)) return true;
      w.resolve();
      return false;
    });
  }
  /** Resolves once the debug messages satisfy `pred`; rejects after `timeoutMs`. */
  until(pred: (messages: string[]) => boolean, timeoutMs = 10_000, what = 'a log message'): Promise<void> {
    if (pred(this.messages('debug'))) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      this.waiters.push({ pred, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
  /** Debug messages starting with `prefix`. */
  count(prefix: string): number {
    return this.messages('debug').filter((m) => m.startsWith(prefix)).length;
  }
}

/** Collects values and lets a test wait until they satisfy a condition. */
export class Collector<T> {
  readonly items: T[] = [];
  private waiters: { pred: (items: T[]) => boolean; resolve: () => void }[] = [];
  push(item: T): void {
    this.items.push(item);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(this.items)) return true;
      w.resolve();
      return false;
    });
  }
  until(pred: (items: T[]) => boolean, timeoutMs = 10_000): Promise<void> {
    if (pred(this.items)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; collected ${JSON.stringify(this.items)}`)), timeoutMs);
      this.waiters.push({ pred, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
}
