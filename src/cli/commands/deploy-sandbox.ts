/**
 * `deploy --sandbox`'s sandbox: started in a temp directory that holds its kubeconfig, its object store started for the
 * Secrets that hold only object-store keys, its services told once the run succeeded, and kept serving until Ctrl-C.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeClient, Logger, PlannedServiceStage, SecretInput } from '../../engine/index.js';
import type { Sandbox } from '../../sandbox/index.js';
import { OBJECT_STORE } from '../../sandbox/object-store.js';
import type { CliIo } from '../io.js';
import type { sandboxRegistries } from '../registry.js';

/** A sandbox for one `deploy --sandbox`: nothing until `start`, everything it made gone after `stop`. */
export class DeploySandbox {
  private tempDir: string | undefined;
  private sandbox: Sandbox | undefined;

  /** Starts the sandbox (its kubeconfig written in a new temp directory); resolves its kubeconfig's content. */
  async start(io: CliIo, logger: Logger, namespace: string, registries: ReturnType<typeof sandboxRegistries>): Promise<string> {
    this.tempDir = mkdtempSync(join(tmpdir(), 'bodywork-deploy-'));
    const kubeconfigPath = this.kubeconfigPath();
    const { persistentCacheDir, startSandbox } = await import('../../sandbox/index.js');
    const cacheDir = persistentCacheDir();
    const sandbox = await startSandbox({
      kubeconfigPath,
      namespace,
      warn: (m) => logger.debug(m),
      ...(cacheDir ? { python: { cacheDir } } : {}),
      ...(registries.length > 0 ? { kubelet: { registries } } : {}),
    });
    this.sandbox = sandbox;
    const net = sandbox.network;
    const note = net.mode === 'host' ? ` (pods on the host network: ${net.reason ?? 'no isolation available'})` : net.rootless ? ' (pods in rootless namespaces: not running as root)' : '';
    io.stderr(`sandbox running at ${sandbox.url}${note}\n`);
    io.stderr(`kubeconfig: ${kubeconfigPath} (try: kubectl --kubeconfig ${kubeconfigPath} get pods -n ${namespace})\n`);
    return sandbox.kubeconfig;
  }

  /**
   * Starts the sandbox's object store (S3-compatible) and resolves `secrets` with the Secrets `storeSecrets` filled
   * with its keys.
   */
  async withObjectStore(io: CliIo, client: KubeClient, secrets: SecretInput[], storeSecrets: string[], signal: AbortSignal): Promise<SecretInput[]> {
    const sb = this.started();
    const { startObjectStore, withObjectStoreSecrets } = await import('../object-store.js');
    io.stderr(`starting the sandbox's object store for Secret ${storeSecrets.join(', ')} (S3-compatible, moto; its first start installs moto from PyPI)\n`);
    const store = await startObjectStore(client, { isolated: sb.network.mode === 'isolated', loadImage: (i, r, o) => sb.loadImage(i, r, o), serviceUrl: (n, o) => sb.serviceUrl(n, o) }, { signal });
    io.stderr(`object store: ${store.hostUrl} from this machine, ${store.endpoint} from pods, bucket ${store.bucket} (${OBJECT_STORE.namespace}/${OBJECT_STORE.name})\n`);
    return withObjectStoreSecrets(secrets, storeSecrets, store.data);
  }

  /** Tells how to reach the services, then keeps serving until `signal` aborts (Ctrl-C). */
  async serve(io: CliIo, namespace: string, services: PlannedServiceStage[], json: boolean, signal: AbortSignal): Promise<void> {
    await this.printServiceAccess(io, namespace, services, json);
    io.stderr('the sandbox keeps serving; stop it with Ctrl-C\n');
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    io.stderr('stopping the sandbox\n');
  }

  /** Stops the sandbox, if it started, and removes the temp directory. */
  async stop(): Promise<void> {
    if (this.sandbox !== undefined) await this.sandbox.stop();
    if (this.tempDir !== undefined) rmSync(this.tempDir, { recursive: true, force: true });
  }

  private kubeconfigPath(): string {
    return join(this.tempDir ?? '', 'kubeconfig');
  }

  private started(): Sandbox {
    if (this.sandbox === undefined) throw new Error('the sandbox has not started');
    return this.sandbox;
  }

  /**
   * For each service: its host URL in the sandbox (stdout, or stderr when stdout holds the JSON document) and the
   * tutorial's way through `kubectl proxy`.
   */
  private async printServiceAccess(io: CliIo, namespace: string, services: PlannedServiceStage[], json: boolean): Promise<void> {
    if (services.length === 0) return;
    const kubeconfigPath = this.kubeconfigPath();
    io.stderr(`services (reach them through kubectl proxy: kubectl --kubeconfig ${kubeconfigPath} proxy --port 8001):\n`);
    for (const s of services) {
      const name = s.service.metadata?.name ?? s.baseName;
      const url = await this.started().serviceUrl(name, { namespace });
      const line = `${s.stage}: ${url ?? '(no endpoint yet)'}\n`;
      if (json) io.stderr(line);
      else io.stdout(line);
      io.stderr(`  ${s.stage}: curl http://localhost:8001/api/v1/namespaces/${namespace}/services/${name}/proxy/<path>${url ? ` (or directly: ${url}/<path>)` : ''}\n`);
    }
  }
}
