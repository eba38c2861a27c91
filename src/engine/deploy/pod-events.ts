/**
 * The Kubernetes Events of a failed stage's pods: what the scheduler and the kubelet said about them
 * (FailedScheduling, Failed with ErrImagePull, BackOff, Unhealthy, FailedMount, ...). A failure reason names the
 * symptom; these say what the cluster saw, as `kubectl describe pod` would show. Only Warnings: the Normal ones
 * (Scheduled, Pulled, Started) are the path every pod takes.
 *
 * Best effort: listing Events may be forbidden or slow, and a failed stage must still be reported, so every error
 * ends as a debug line and no events. Events are recorded asynchronously by their components: one written a moment
 * after the failure was seen may be missing.
 */
import type { CoreV1Event } from '@kubernetes/client-node';
import type { DeployContext, StageEvent } from './types.js';
import { errorMessage } from '../errors.js';

/** Events kept per stage (the newest). */
export const MAX_STAGE_EVENTS = 20;
/** Pods whose events are read, at most. */
const MAX_PODS = 5;

/** The Warning events of `pods`, oldest first, at most MAX_STAGE_EVENTS. */
export async function podWarningEvents(ctx: Pick<DeployContext, 'client' | 'namespace' | 'logger'>, pods: string[]): Promise<StageEvent[]> {
  const signal = AbortSignal.timeout(10_000);
  // One request per pod, side by side: a failure report waits for the slowest one only.
  const perPod = await Promise.all(
    [...new Set(pods)]
      .filter((p) => p !== '')
      .slice(0, MAX_PODS)
      .map(async (pod): Promise<StageEvent[]> => {
        try {
          const { items } = await ctx.client.list<CoreV1Event>('Event', ctx.namespace, { fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${pod}`, signal });
          return items.filter((e) => e.type === 'Warning').map((e) => {
            const last = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
            return {
              object: `Pod/${pod}`,
              reason: e.reason ?? '',
              message: (e.message ?? '').replace(/\s+/g, ' ').trim(),
              count: e.count ?? 1,
              ...(last !== undefined ? { lastSeen: new Date(last).toISOString() } : {}),
            };
          });
        } catch (error) {
          ctx.logger.debug(`no events of pod ${pod}: ${errorMessage(error)}`);
          return [];
        }
      }),
  );
  const events = perPod.flat();
  events.sort((a, b) => (a.lastSeen ?? '').localeCompare(b.lastSeen ?? ''));
  return events.slice(-MAX_STAGE_EVENTS);
}

/**
 * `reason` with the registry's answer added when it only says the kubelet backs off a pull (`ImagePullBackOff: ...
 * Back-off pulling image "x"`): the latest `Failed` event `Failed to pull image "x": <registry's message>` says why.
 * An `ErrImagePull` reason already holds that message.
 */
export function withPullFailure(reason: string, events: StageEvent[]): string {
  if (!reason.includes('ImagePullBackOff') || reason.includes('Failed to pull image')) return reason;
  const pull = events.filter((e) => e.reason === 'Failed' && e.message.startsWith('Failed to pull image')).at(-1);
  return pull ? `${reason}; ${pull.message}` : reason;
}
