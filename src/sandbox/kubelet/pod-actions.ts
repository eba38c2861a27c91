/**
 * Which of a pod's containers to start or restart on a sync, as K pkg/kubelet/kuberuntime/kuberuntime_manager.go
 * computePodActions and computeInitContainerActions decide it: init containers first, one at a time and in order;
 * a sidecar (restartable init container) lets the next one start once it is started, and is restarted whenever it
 * exits; regular containers start together once every init container is done, and restart per the restartPolicy.
 * Acting on the decision (back-off, image pull, the runtime) is the pod worker's.
 */
import type { ContainerState } from './container-state.js';

export interface PodActions {
  /** Start a container that never ran (its `started` may be true right after, without a startup probe). */
  start(c: ContainerState): void;
  /** Restart a container whose instance ended, after its back-off. */
  restart(c: ContainerState): void;
}

/** Walks `containers` (init containers first, in spec order) and starts or restarts what must run now. */
export function computePodActions(containers: readonly ContainerState[], restartPolicy: string, act: PodActions): void {
  const inits = containers.filter((c) => c.init);
  const regular = containers.filter((c) => !c.init);
  for (const c of inits) {
    const cur = c.current;
    if (c.sidecar) {
      // The next init container starts once this sidecar is started (its startupProbe passed).
      if (!cur) {
        act.start(c);
        if (!c.started) return;
        continue;
      }
      if (cur.done) {
        act.restart(c);
        return;
      }
      if (!c.started) return;
      continue;
    }
    if (cur?.done && cur.exitCode === 0) continue;
    if (cur && !cur.done) return; // running: wait for it
    if (!cur) {
      act.start(c);
      return;
    }
    // Failed init container: Never -> the pod fails (the worker's computeTerminal); otherwise retried with back-off.
    if (restartPolicy !== 'Never') act.restart(c);
    return;
  }
  // Sidecars keep being restarted while the regular containers run.
  for (const c of inits) if (c.sidecar && c.current?.done) act.restart(c);
  for (const c of regular) {
    const cur = c.current;
    if (!cur) {
      act.start(c);
      continue;
    }
    if (!cur.done) continue;
    const restart = restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && cur.exitCode !== 0);
    if (restart) act.restart(c);
  }
}
