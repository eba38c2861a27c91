/**
 * Writes one pod's status through the `status` subresource, as K pkg/kubelet/status/status_manager.go does: only when
 * it changed, one write at a time (a change during a write is written once it ends), and after a conflict or a
 * failure the pod is synced again from the cache. It also confirms the pod's deletion once its containers are gone.
 */
import { errorMessage } from '../../engine/errors.js';
import { isNotFound } from '../machinery/errors.js';
import type { KubeObject } from '../types.js';
import type { KubeletApi } from './api.js';

/** The pod worker as the status manager reads it. */
export interface StatusSource {
  /** The pod as last seen: from the cache, or as our last write stored it. */
  pod(): KubeObject;
  /** Once the worker is torn down nothing is written. */
  stopped(): boolean;
  /** The status the kubelet reports now. */
  status(): any;
  /** A write stored the pod. */
  written(pod: KubeObject): void;
}

export interface StatusManagerEnv {
  api: KubeletApi;
  log: (message: string) => void;
  /** Ask for another sync of the pod after `ms`. */
  requeue: (ms?: number) => void;
}

export class PodStatusManager {
  /** The JSON of the last status written. */
  private lastWritten: string | undefined;
  /** The write in flight, and whether another is due once it ends (writes of one pod never overlap). */
  private writing: Promise<void> | undefined;
  private writeAgain = false;
  /** The confirming DELETE was sent (or is in flight); reset after a failure, for the next sync to retry. */
  private deleteRequested = false;

  constructor(
    private readonly source: StatusSource,
    private readonly env: StatusManagerEnv,
  ) {}

  /** Writes the status when it changed; resolves once it is written. */
  write(): Promise<void> {
    if (this.source.stopped()) return Promise.resolve();
    if (this.writing) {
      this.writeAgain = true;
      return this.writing;
    }
    const status = this.source.status();
    const json = JSON.stringify(status);
    if (JSON.stringify(this.source.pod().status) === json) {
      this.lastWritten = json;
      return Promise.resolve();
    }
    if (json === this.lastWritten) return Promise.resolve();
    this.writing = this.patch(status, json);
    return this.writing;
  }

  /**
   * Once the pod's containers are gone: its final status, then the confirmation of its graceful deletion (DELETE with
   * grace period 0 and a uid precondition), as the status manager does upstream. Sent once; a failure is retried.
   */
  confirmDeletion(namespace: string, name: string, uid: string): void {
    if (this.deleteRequested) return;
    this.deleteRequested = true;
    void (async () => {
      try {
        await this.write();
        await this.env.api.confirmPodDeletion(namespace, name, uid);
      } catch (err) {
        const code = (err as { code?: number }).code;
        if (code !== 404 && code !== 409) {
          this.env.log(`kubelet: deleting pod ${namespace}/${name}: ${errorMessage(err)}`);
          this.deleteRequested = false;
          this.env.requeue(200);
        }
      }
    })();
  }

  private async patch(status: any, json: string): Promise<void> {
    const pod = this.source.pod();
    try {
      this.source.written(await this.env.api.patchPodStatus(pod, status));
      this.lastWritten = json;
    } catch (err) {
      if (!isNotFound(err) && (err as { code?: number }).code !== 409) {
        this.env.log(`kubelet: status of ${pod.metadata.namespace}/${pod.metadata.name}: ${errorMessage(err)}`);
      }
      // A conflict (another uid) or a failure: sync again from the cache.
      if ((err as { code?: number }).code !== 404) this.env.requeue(100);
    } finally {
      this.writing = undefined;
    }
    if (this.writeAgain) {
      this.writeAgain = false;
      await this.write();
    }
  }
}
