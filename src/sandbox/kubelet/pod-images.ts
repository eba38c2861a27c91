/**
 * The image pull before each container start of one pod (K kuberuntime_container.go startContainer: EnsureImageExists
 * first), on the node's ImagePuller with the pod's pull-secret credentials. A failed pull leaves the container waiting
 * (ErrImagePull, then ImagePullBackOff) and syncs leave it so, without asking again, until its back-off ends.
 */
import type { ObjectReader } from '../node/view.js';
import type { Clock } from '../machinery/clock.js';
import type { KubeObject } from '../types.js';
import type { ContainerState } from './container-state.js';
import type { ImagePuller } from './image-pull.js';
import { pullCredentials } from './pull-secrets.js';

export interface PodImagesEnv {
  api: Pick<ObjectReader, 'find'>;
  images: ImagePuller;
  clock: Pick<Clock, 'now'>;
  /** The pod as the worker sees it now. */
  pod(): KubeObject;
  /** Records an event on the pod (`c` undefined) or on container `c`. */
  event(type: 'Normal' | 'Warning', reason: string, message: string, c?: ContainerState): void;
  /** Ask for another sync of the pod after `ms`. */
  requeue(ms: number): void;
}

export class PodImages {
  /** FailedToRetrieveImagePullSecret was recorded (once per pod). */
  private pullSecretsWarned = false;

  constructor(private readonly env: PodImagesEnv) {}

  /** Whether `c`'s image is present; else `c` waits with the pull's reason. */
  ready(c: ContainerState): boolean {
    const { clock } = this.env;
    if (c.pullRetryAt !== undefined && clock.now() < c.pullRetryAt) return false;
    c.pullRetryAt = undefined;
    const pod = this.env.pod();
    const { credentials, missing } = pullCredentials(this.env.api, pod);
    if (missing.length > 0 && !this.pullSecretsWarned) {
      this.pullSecretsWarned = true;
      this.env.event('Warning', 'FailedToRetrieveImagePullSecret', `Unable to retrieve some image pull secrets (${missing.join(', ')}); attempting to pull the image may not succeed.`);
    }
    const out = this.env.images.ensure(pod.metadata.uid!, c.spec.image ?? '', c.spec.imagePullPolicy, credentials, (type, reason, message) => this.env.event(type, reason, message, c));
    if (out.ok) return true;
    c.waiting = { reason: out.reason, message: out.message };
    this.env.event('Warning', 'Failed', `Error: ${out.reason}`, c);
    // After ErrImagePull the next sync finds the back-off (ImagePullBackOff), as the kubelet's resync does; then the
    // pull is retried when the back-off ends.
    if (out.retryInMs !== undefined) {
      const wait = out.reason === 'ErrImagePull' ? Math.min(1000, out.retryInMs) : out.retryInMs;
      c.pullRetryAt = clock.now() + wait;
      this.env.requeue(wait + 1);
    }
    return false;
  }
}
