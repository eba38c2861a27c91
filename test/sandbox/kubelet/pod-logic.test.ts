// The kubelet's decisions that need no process: back-off on a stepped clock, which containers a sync starts, the
// phase a pod reports, and which container instance a pods/log request reads.
import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../src/sandbox/kubelet/backoff.js';
import { newContainerState, type ContainerInstance, type ContainerState } from '../../../src/sandbox/kubelet/container-state.js';
import { logTarget } from '../../../src/sandbox/kubelet/logs.js';
import { computePodActions } from '../../../src/sandbox/kubelet/pod-actions.js';
import { podPhase } from '../../../src/sandbox/kubelet/pod-status.js';
import { StatusError } from '../../../src/sandbox/machinery/errors.js';
import type { KubeObject } from '../../../src/sandbox/types.js';

const clock = (t = 1_000_000): { now: () => number; t: number } => {
  const c = { t, now: () => c.t };
  return c;
};

describe('Backoff', () => {
  it('restarts at once, then waits base·2^n from the last exit up to the cap', () => {
    const c = clock();
    const b = new Backoff(10_000, 40_000, c);
    expect(b.since('app', c.t)).toBeUndefined();
    expect(b.next('app')).toBe(10_000);
    const exit = c.t + 500;
    c.t = exit + 4_000;
    expect(b.since('app', exit)).toEqual({ durationMs: 10_000, remainingMs: 6_000 });
    c.t = exit + 10_000;
    expect(b.since('app', exit)).toBeUndefined();
    expect([b.next('app'), b.next('app'), b.next('app')]).toEqual([20_000, 40_000, 40_000]);
    expect(b.since('other', exit)).toBeUndefined();
  });

  it('starts over after twice the cap without a step, and forgets entries', () => {
    const c = clock();
    const b = new Backoff(1_000, 5_000, c);
    b.next('a');
    b.next('a');
    expect(b.sinceUpdate('a')).toBe(2_000);
    c.t += 10_000;
    // Exactly 2×cap since the last step: not expired yet.
    expect(b.next('a')).toBe(4_000);
    c.t += 10_001;
    // Expired: no back-off, even from a recent exit, and the next step is the base again.
    expect(b.since('a', c.t - 1)).toBeUndefined();
    expect(b.next('a')).toBe(1_000);
    b.next('pod1_x');
    b.next('pod2_x');
    b.forget((id) => id.startsWith('pod1_'));
    expect(b.sinceUpdate('pod1_x')).toBeUndefined();
    expect(b.sinceUpdate('pod2_x')).toBe(1_000);
  });
});

function instance(done: boolean, exitCode?: number): ContainerInstance {
  return { n: 0, containerID: 'sandbox://x', startedAt: '', logFile: '', writer: undefined as never, done, exitCode, killing: false };
}

function containers(specs: { name: string; init?: boolean; sidecar?: boolean }[]): ContainerState[] {
  return specs.map((s) => newContainerState({ name: s.name, ...(s.sidecar ? { restartPolicy: 'Always' } : {}) }, s.init === true || s.sidecar === true));
}

function actions(cs: ContainerState[], restartPolicy: string, onStart?: (c: ContainerState) => void): string[] {
  const out: string[] = [];
  computePodActions(cs, restartPolicy, {
    start: (c) => {
      out.push(`start ${c.spec.name}`);
      onStart?.(c);
    },
    restart: (c) => out.push(`restart ${c.spec.name}`),
  });
  return out;
}

describe('computePodActions', () => {
  it('runs init containers one at a time, in order, before the regular ones', () => {
    const cs = containers([{ name: 'i1', init: true }, { name: 'i2', init: true }, { name: 'a' }, { name: 'b' }]);
    expect(actions(cs, 'Always')).toEqual(['start i1']);
    cs[0].current = instance(false);
    expect(actions(cs, 'Always')).toEqual([]);
    cs[0].current = instance(true, 0);
    expect(actions(cs, 'Always')).toEqual(['start i2']);
    cs[1].current = instance(true, 0);
    expect(actions(cs, 'Always')).toEqual(['start a', 'start b']);
  });

  it('retries a failed init container unless the policy is Never', () => {
    const cs = containers([{ name: 'i1', init: true }, { name: 'a' }]);
    cs[0].current = instance(true, 1);
    expect(actions(cs, 'OnFailure')).toEqual(['restart i1']);
    expect(actions(cs, 'Never')).toEqual([]);
  });

  it('lets the next container start once a sidecar is started, and restarts an exited sidecar', () => {
    const cs = containers([{ name: 'proxy', sidecar: true }, { name: 'a' }]);
    expect(actions(cs, 'Never')).toEqual(['start proxy']);
    const started = containers([{ name: 'proxy', sidecar: true }, { name: 'a' }]);
    expect(actions(started, 'Never', (c) => (c.started = true))).toEqual(['start proxy', 'start a']);
    started[0].current = instance(true, 1);
    started[1].current = instance(false);
    expect(actions(started, 'Never')).toEqual(['restart proxy']);
  });

  it('restarts regular containers per restartPolicy', () => {
    const cs = containers([{ name: 'ok' }, { name: 'bad' }]);
    cs[0].current = instance(true, 0);
    cs[1].current = instance(true, 2);
    expect(actions(cs, 'Always')).toEqual(['restart ok', 'restart bad']);
    expect(actions(cs, 'OnFailure')).toEqual(['restart bad']);
    expect(actions(cs, 'Never')).toEqual([]);
  });
});

describe('podPhase', () => {
  it('follows getPhase: Pending, Running, Succeeded, Failed', () => {
    const cs = containers([{ name: 'i', init: true }, { name: 'a' }]);
    expect(podPhase(cs, 'Never', false)).toBe('Pending');
    cs[0].current = instance(true, 0);
    cs[1].current = instance(false);
    expect(podPhase(cs, 'Never', false)).toBe('Running');
    cs[1].current = instance(true, 0);
    expect(podPhase(cs, 'Never', false)).toBe('Succeeded');
    expect(podPhase(cs, 'Always', false)).toBe('Running');
    cs[1].current = instance(true, 1);
    expect(podPhase(cs, 'Never', false)).toBe('Failed');
    expect(podPhase(cs, 'OnFailure', false)).toBe('Running');
  });

  it('fails a Never pod whose init container failed, and a deleted pod whose containers never ran', () => {
    const cs = containers([{ name: 'i', init: true }, { name: 'a' }]);
    cs[0].current = instance(true, 1);
    expect(podPhase(cs, 'Never', false)).toBe('Failed');
    expect(podPhase(containers([{ name: 'a' }]), 'Always', true)).toBe('Failed');
  });
});

describe('logTarget', () => {
  const pod = (status: any, nodeName = 'n'): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'd' },
    spec: { nodeName, containers: [{ name: 'a' }, { name: 'b' }] },
    status,
  });
  const message = (f: () => unknown): string => {
    try {
      f();
    } catch (err) {
      expect(err).toBeInstanceOf(StatusError);
      return (err as StatusError).message;
    }
    return '';
  };

  it('picks the running, terminated or previous instance, and words what is missing as the API server does', () => {
    const running = pod({ containerStatuses: [{ name: 'a', containerID: 'c2', state: { running: {} }, lastState: { terminated: { containerID: 'c1' } } }] });
    expect(logTarget(running, 'p', { container: 'a' })).toEqual({ container: 'a', containerID: 'c2' });
    expect(logTarget(running, 'p', { container: 'a', previous: true })).toEqual({ container: 'a', containerID: 'c1' });
    expect(message(() => logTarget(running, 'p', {}))).toBe('a container name must be specified for pod p, choose one of: [a b]');
    expect(message(() => logTarget(running, 'p', { container: 'z' }))).toBe('container z is not valid for pod p');
    expect(message(() => logTarget(running, 'p', { container: 'b' }))).toBe('container "b" in pod "p" is waiting to start: ContainerCreating');
    const pulling = pod({ containerStatuses: [{ name: 'a', state: { waiting: { reason: 'ImagePullBackOff' } }, lastState: {} }] });
    expect(message(() => logTarget(pulling, 'p', { container: 'a' }))).toBe('container "a" in pod "p" is waiting to start: trying and failing to pull image');
    expect(logTarget(pod({}, ''), 'p', { container: 'a' })).toBeUndefined();
  });
});
