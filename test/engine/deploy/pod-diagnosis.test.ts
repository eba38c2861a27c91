/** diagnosePod / logSources on hand-built Pod objects shaped as the kubelet and scheduler write them. */
import type { V1ContainerStatus, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { diagnosePod, isPodReady, logSources } from '../../../src/engine/deploy/pod-diagnosis.js';

function pod(o: { phase?: string; conditions?: V1PodCondition[]; containers?: V1ContainerStatus[]; init?: V1ContainerStatus[]; reason?: string; message?: string }): V1Pod {
  return {
    metadata: { name: 'stage-2-abc-xyz', namespace: 'ns' },
    status: {
      phase: o.phase ?? 'Running',
      conditions: o.conditions ?? [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [bodywork]' },
      ],
      ...(o.containers ? { containerStatuses: o.containers } : {}),
      ...(o.init ? { initContainerStatuses: o.init } : {}),
      ...(o.reason ? { reason: o.reason } : {}),
      ...(o.message ? { message: o.message } : {}),
    },
  };
}

function cs(name: string, fields: Partial<V1ContainerStatus>): V1ContainerStatus {
  return { name, image: 'img', imageID: '', ready: false, restartCount: 0, ...fields };
}

describe('diagnosePod', () => {
  it('CrashLoopBackOff is fatal and says how it exited', () => {
    const d = diagnosePod(
      pod({
        containers: [
          cs('bodywork', {
            restartCount: 1,
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=bodywork pod=x' } },
            lastState: { terminated: { exitCode: 1, reason: 'Error', containerID: 'c1' } },
          }),
        ],
      }),
    );
    expect(d).toEqual({ fatal: true, reason: 'CrashLoopBackOff: container "bodywork" crashed 2 times, last with exit code 1 (Error)' });
  });

  it('OOMKilled shows in the crash-loop reason', () => {
    const d = diagnosePod(
      pod({ containers: [cs('bodywork', { restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } } })] }),
    );
    expect(d).toEqual({ fatal: true, reason: 'CrashLoopBackOff: container "bodywork" crashed 4 times, last with exit code 137 (OOMKilled)' });
  });

  it.each([
    ['ImagePullBackOff', 'Back-off pulling image "bodyworkml/nope:1"'],
    ['ErrImagePull', 'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/bodyworkml/nope:1": not found'],
    ['InvalidImageName', 'Failed to apply default image tag "Bad Image": couldn\'t parse image name'],
    ['CreateContainerConfigError', "couldn't find key PASSWORD in Secret ns/creds"],
    ['CreateContainerError', 'container has no command'],
  ])('%s is fatal and quotes the kubelet', (reason, message) => {
    const d = diagnosePod(pod({ phase: 'Pending', containers: [cs('bodywork', { state: { waiting: { reason, message } } })] }));
    expect(d).toEqual({ fatal: true, reason: `${reason}: container "bodywork": ${message}` });
  });

  it('Unschedulable is fatal and quotes the scheduler', () => {
    const message = '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.';
    const d = diagnosePod(pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }] }));
    expect(d).toEqual({ fatal: true, reason: `Unschedulable: ${message}` });
  });

  it('a first crash is not fatal yet (the kubelet restarts it at once); a third one is', () => {
    const first = pod({ containers: [cs('bodywork', { restartCount: 0, state: { terminated: { exitCode: 2, reason: 'Error' } } })] });
    expect(diagnosePod(first)).toEqual({ fatal: false, reason: 'container "bodywork" exited with exit code 2 (Error); the kubelet restarts it' });
    const third = pod({ containers: [cs('bodywork', { restartCount: 2, state: { terminated: { exitCode: 2, reason: 'Error' } }, lastState: { terminated: { exitCode: 2 } } })] });
    expect(diagnosePod(third)).toEqual({ fatal: true, reason: 'container "bodywork" keeps crashing: exited with exit code 2 (Error) after 2 restarts' });
  });

  it('a failing init container is reported as such', () => {
    const d = diagnosePod(
      pod({
        phase: 'Pending',
        init: [cs('setup', { restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, reason: 'Error' } } })],
        containers: [cs('bodywork', { state: { waiting: { reason: 'PodInitializing' } } })],
      }),
    );
    expect(d).toEqual({ fatal: true, reason: 'CrashLoopBackOff: init container "setup" crashed 3 times, last with exit code 1 (Error)' });
  });

  it('a failed pod (evicted) is fatal', () => {
    expect(diagnosePod(pod({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' }))).toEqual({
      fatal: true,
      reason: 'pod failed (Evicted): The node was low on resource: memory.',
    });
  });

  it('waiting to be scheduled, being created and not yet ready are not fatal', () => {
    expect(diagnosePod(pod({ phase: 'Pending', conditions: [] }))).toEqual({ fatal: false, reason: 'waiting to be scheduled' });
    expect(diagnosePod(pod({ phase: 'Pending', containers: [cs('bodywork', { state: { waiting: { reason: 'ContainerCreating' } } })] }))).toEqual({
      fatal: false,
      reason: 'container "bodywork" is waiting: ContainerCreating',
    });
    expect(diagnosePod(pod({ containers: [cs('bodywork', { started: false, state: { running: { startedAt: new Date() } } })] }))).toEqual({
      fatal: false,
      reason: 'container "bodywork" is running but not ready (startup probe not passed yet)',
    });
    // A crash that the kubelet recovered from: running again, not fatal.
    const recovered = pod({ containers: [cs('bodywork', { restartCount: 1, started: true, state: { running: {} }, lastState: { terminated: { exitCode: 1, reason: 'Error' } } })] });
    expect(diagnosePod(recovered)).toEqual({ fatal: false, reason: 'container "bodywork" is running but not ready (restarted 1 time, last exit: exit code 1 (Error))' });
  });

  it('a ready pod has nothing to report', () => {
    const ready = pod({
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Ready', status: 'True' },
      ],
      containers: [cs('bodywork', { ready: true, started: true, state: { running: {} } })],
    });
    expect(diagnosePod(ready)).toEqual({ fatal: false, reason: '' });
    expect(isPodReady(ready)).toBe(true);
    expect(isPodReady(pod({}))).toBe(false);
  });
});

describe('logSources', () => {
  it('reads the previous instance of a crash-looping container, the current one otherwise', () => {
    const p = pod({
      init: [cs('setup', { state: { terminated: { exitCode: 0 } } })],
      containers: [
        cs('bodywork', { restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, containerID: 'sandbox://a' } } }),
        cs('sidecar', { state: { running: {} } }),
        cs('never-started', { state: { waiting: { reason: 'ContainerCreating' } } }),
      ],
    });
    expect(logSources(p)).toEqual([
      { container: 'bodywork', previous: true },
      { container: 'sidecar', previous: false },
    ]);
    // Terminated right now: its own (current) log is the latest.
    const t = pod({ containers: [cs('bodywork', { restartCount: 1, state: { terminated: { exitCode: 1 } }, lastState: { terminated: { exitCode: 1, containerID: 'x' } } })] });
    expect(logSources(t)).toEqual([{ container: 'bodywork', previous: false }]);
  });
});
