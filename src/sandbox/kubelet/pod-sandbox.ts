/**
 * One pod's sandbox in isolated mode (network namespace, pod IP, mounts), as K pkg/kubelet/kuberuntime/
 * kuberuntime_sandbox.go and kuberuntime_manager.go (createPodSandbox) handle it: created in the background while the
 * containers wait in ContainerCreating, retried after a failure with a FailedCreatePodSandBox event, released once
 * the containers have stopped. The pod IP stays in the status after release, as upstream's.
 */
import { errorMessage } from '../../engine/errors.js';
import type { Clock } from '../machinery/clock.js';
import type { PodRuntime, PodSandbox } from '../network/index.js';
import type { KubeObject } from '../types.js';

/** How long after a failed creation the next one is tried. */
const RETRY_MS = 1000;

export interface PodSandboxEnv {
  network: PodRuntime;
  podDir: string;
  clock: Clock;
  /** The pod as the worker sees it now. */
  pod(): KubeObject;
  /** Whether the pod's worker was torn down (a sandbox created since is destroyed at once). */
  torndown(): boolean;
  /** Records an event on the pod. */
  event(type: 'Warning', reason: string, message: string): void;
  /** The sandbox exists, or a retry is due: sync the pod again. */
  requeue(): void;
  log(message: string): void;
}

export class PodSandboxHolder {
  /** The pod's sandbox once created. */
  private current: PodSandbox | undefined;
  private pending: Promise<void> | undefined;
  /** The last creation failure (its event is recorded once per distinct message). */
  private error: string | undefined;
  private cancelRetry: (() => void) | undefined;
  /** The pod IP, kept after the sandbox is gone. */
  private ip: string | undefined;

  constructor(private readonly env: PodSandboxEnv) {}

  get sandbox(): PodSandbox | undefined {
    return this.current;
  }

  get podIP(): string | undefined {
    return this.ip;
  }

  /** Creates the sandbox in the background (RunPodSandbox), unless one is being created or a retry is waiting. */
  ensure(): void {
    if (this.pending || this.cancelRetry) return;
    this.pending = this.env.network
      .createSandbox(this.env.pod(), this.env.podDir)
      .then(async (sb) => {
        this.pending = undefined;
        if (this.env.torndown()) {
          await sb.destroy();
          return;
        }
        this.current = sb;
        this.ip = sb.podIP;
        this.error = undefined;
        this.env.requeue();
      })
      .catch((err) => {
        this.pending = undefined;
        if (this.env.torndown()) return;
        const msg = `Failed to create pod sandbox: ${errorMessage(err)}`;
        if (msg !== this.error) this.env.event('Warning', 'FailedCreatePodSandBox', msg);
        this.error = msg;
        this.cancelRetry = this.env.clock.after(RETRY_MS, () => {
          this.cancelRetry = undefined;
          this.env.requeue();
        });
      });
  }

  /** Releases the sandbox (namespaces, pod IP); the IP stays reported. */
  release(): Promise<void> {
    const sb = this.current;
    this.current = undefined;
    if (!sb) return Promise.resolve();
    const pod = this.env.pod();
    return sb.destroy().catch((err) => this.env.log(`kubelet: tearing down the sandbox of ${pod.metadata.namespace}/${pod.metadata.name}: ${errorMessage(err)}`));
  }

  /** No more retries (the worker is being torn down). */
  stopRetrying(): void {
    this.cancelRetry?.();
    this.cancelRetry = undefined;
  }

  /** Waits for a creation in progress, then releases whatever exists. */
  async close(): Promise<void> {
    if (this.pending) await this.pending;
    await this.release();
  }
}
