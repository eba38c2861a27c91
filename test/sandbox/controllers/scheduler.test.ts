import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { parseQuantity } from '../../../src/engine/kube/quantity.js';
import { insufficientResources, podRequests, unschedulableMessage } from '../../../src/sandbox/controllers/scheduler/fit.js';
import { placementFailure, tolerates } from '../../../src/sandbox/controllers/scheduler/node-filters.js';
import { nodeCapacity } from '../../../src/sandbox/machinery/capacity.js';
import type { KubeObject } from '../../../src/sandbox/types.js';
import { eventsFor, startHarness, waitFor, type Harness } from './helpers.js';

const NO_VICTIMS = ' preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.';

describe('quantities', () => {
  it('parses cpu in milli-units and memory in bytes, exactly, rounding up', () => {
    expect(parseQuantity('500m', 3)).toBe(500);
    expect(parseQuantity('0.5', 3)).toBe(500);
    expect(parseQuantity('0.1', 3)).toBe(100);
    expect(parseQuantity('1.5', 3)).toBe(1500);
    expect(parseQuantity(2, 3)).toBe(2000);
    expect(parseQuantity('1e3', 3)).toBe(1_000_000);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('1E3')).toBe(1000);
    expect(parseQuantity('100M')).toBe(100_000_000);
    expect(parseQuantity('100Mi')).toBe(104_857_600);
    expect(parseQuantity('1Gi')).toBe(1_073_741_824);
    expect(parseQuantity('1.5Gi')).toBe(1_610_612_736);
    expect(parseQuantity('128974848')).toBe(128_974_848);
    expect(parseQuantity('129e6')).toBe(129_000_000);
    expect(parseQuantity('1k')).toBe(1000);
    expect(parseQuantity('1Ki')).toBe(1024);
    expect(parseQuantity('1m')).toBe(1); // 0.001 byte rounds up
    expect(parseQuantity('1n', 3)).toBe(1);
    expect(parseQuantity('2E')).toBe(2e18);
  });
  it('rejects malformed quantities', () => {
    for (const bad of ['', 'abc', '1.2.3', '1KiB', 'Mi', '1 Gi', '1e']) expect(() => parseQuantity(bad), bad).toThrow(/quantities must match/);
  });
  it('node capacity strings default to the machine', () => {
    expect(nodeCapacity()).toEqual({ cpu: String(os.cpus().length), memory: `${Math.floor(os.totalmem() / 1024)}Ki` });
    expect(nodeCapacity({ cpu: 1.5, memory: '1Gi' })).toEqual({ cpu: '1500m', memory: '1048576Ki' });
    expect(nodeCapacity({ cpu: '2', memory: '100M' })).toEqual({ cpu: '2', memory: '100000000' });
  });
});

describe('pod requests', () => {
  const c = (cpu?: string, memory?: string, extra: Record<string, unknown> = {}): any => ({ name: 'c', resources: { requests: { cpu, memory } }, ...extra });
  const pod = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec });
  it('sums containers, takes the max of init containers, adds sidecars and overhead; limits stand in for requests', () => {
    expect(podRequests(pod({ containers: [c('100m', '1Mi'), c('200m')] }))).toEqual({ cpu: 300, memory: 1_048_576 });
    expect(podRequests(pod({ containers: [c('100m')], initContainers: [c('500m'), c('50m')] }))).toEqual({ cpu: 500, memory: 0 });
    // sidecar 100m runs next to both the later init container (300m + 100m) and the regular ones (100m + 100m)
    expect(podRequests(pod({ containers: [c('100m')], initContainers: [c('100m', undefined, { restartPolicy: 'Always' }), c('300m')] }))).toEqual({
      cpu: 400,
      memory: 0,
    });
    expect(podRequests(pod({ containers: [{ name: 'c', resources: { limits: { cpu: '1', memory: '1Gi' } } }] }))).toEqual({ cpu: 1000, memory: 1_073_741_824 });
    expect(podRequests(pod({ containers: [c('100m')], overhead: { cpu: '10m' } }))).toEqual({ cpu: 110, memory: 0 });
    expect(podRequests(pod({ containers: [{ name: 'c' }] }))).toEqual({ cpu: 0, memory: 0 });
  });
  it('reports upstream reasons and message', () => {
    const p = (cpu: string, memory?: string): KubeObject => pod({ containers: [c(cpu, memory)] });
    const alloc = { cpu: 1000, memory: 1 << 30, pods: 110 };
    expect(insufficientResources(p('600m'), [p('400m')], alloc)).toEqual([]);
    expect(insufficientResources(p('601m'), [p('400m')], alloc)).toEqual(['Insufficient cpu']);
    expect(insufficientResources(p('2', '2Gi'), [], alloc)).toEqual(['Insufficient cpu', 'Insufficient memory']);
    expect(insufficientResources(p('0'), [p('1')], alloc)).toEqual([]); // zero requests always fit
    expect(insufficientResources(p('0'), [p('0')], { ...alloc, pods: 1 })).toEqual(['Too many pods']);
    // Extended resources: a limit counts as the request; a node that does not advertise one has none of it.
    const gpu = (n: string, where: 'limits' | 'requests' = 'limits'): KubeObject => pod({ containers: [{ name: 'c', resources: { [where]: { 'nvidia.com/gpu': n } } }] });
    expect(insufficientResources(gpu('1'), [], alloc)).toEqual(['Insufficient nvidia.com/gpu']);
    expect(insufficientResources(gpu('1'), [], { ...alloc, extended: { 'nvidia.com/gpu': 1 } })).toEqual([]);
    expect(insufficientResources(gpu('1', 'requests'), [gpu('1')], { ...alloc, extended: { 'nvidia.com/gpu': 1 } })).toEqual(['Insufficient nvidia.com/gpu']);
    expect(insufficientResources(gpu('2'), [p('1')], { ...alloc, extended: { 'nvidia.com/gpu': 2 } })).toEqual([]);
    expect(unschedulableMessage(['Insufficient memory', 'Insufficient cpu'])).toBe(
      '0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
    );
  });
});

describe('scheduler with node capacity', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.stop();
  });
  const pod = (name: string, cpu: string, script = 'sleep 30', memory?: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', script], resources: { requests: { cpu, ...(memory ? { memory } : {}) } } }],
    },
  });
  const scheduled = (name: string): any => h.store.find('pods', 'default', name)?.status?.conditions?.find((c: any) => c.type === 'PodScheduled');

  it('keeps a pod that does not fit Pending (Unschedulable, FailedScheduling) and schedules it once a deletion frees capacity', async () => {
    const capacity = { cpu: '1', memory: '1Gi' };
    h = await startHarness({ controllers: { nodeCapacity: capacity }, kubelet: { nodeCapacity: capacity } });
    const node = h.store.get('nodes', undefined, 'sandbox');
    expect(node.status.capacity).toMatchObject({ cpu: '1', memory: '1Gi' });
    expect(node.status.allocatable).toMatchObject({ cpu: '1', memory: '1Gi' });

    h.store.create('pods', 'default', pod('big', '600m'));
    await waitFor(h.store, () => h.store.get('pods', 'default', 'big').status?.phase === 'Running', 'big running');
    h.store.create('pods', 'default', pod('late', '500m', 'echo ran'));
    const cond = await waitFor(h.store, () => scheduled('late')?.status === 'False' && scheduled('late'), 'late unschedulable');
    const msg = `0/1 nodes are available: 1 Insufficient cpu.${NO_VICTIMS}`;
    expect(cond).toMatchObject({ reason: 'Unschedulable', message: msg });
    const late = h.store.get('pods', 'default', 'late');
    expect(late.spec.nodeName).toBeUndefined();
    expect(late.status.phase).toBe('Pending');
    const ev = await waitFor(h.store, () => eventsFor(h.store, 'default', 'late').find((e) => e.reason === 'FailedScheduling'), 'FailedScheduling');
    expect(ev).toMatchObject({ type: 'Warning', message: msg, source: { component: 'default-scheduler' } });
    // Our own status writes do not cause retries (no event storm): still one attempt after a while.
    await new Promise((r) => setTimeout(r, 300));
    expect(eventsFor(h.store, 'default', 'late').find((e) => e.reason === 'FailedScheduling')?.count ?? 1).toBe(1);
    expect(h.store.get('pods', 'default', 'late').spec.nodeName).toBeUndefined();

    h.store.delete('pods', 'default', 'big', { gracePeriodSeconds: 0 });
    await waitFor(h.store, () => h.store.get('pods', 'default', 'late').status?.phase === 'Succeeded', 'late ran after big was deleted');
    expect(scheduled('late')).toMatchObject({ status: 'True' });
    expect(eventsFor(h.store, 'default', 'late').some((e) => e.reason === 'Scheduled')).toBe(true);
  });

  it('retries when a pod on the node finishes; memory and cpu reasons together; pods too big for the node stay pending', async () => {
    h = await startHarness({ controllers: { nodeCapacity: { cpu: '2', memory: '1Gi' } }, kubelet: { nodeCapacity: { cpu: '2', memory: '1Gi' } } });
    h.store.create('pods', 'default', pod('first', '1500m', 'sleep 1'));
    await waitFor(h.store, () => h.store.find('pods', 'default', 'first')?.spec?.nodeName, 'first bound');
    h.store.create('pods', 'default', pod('second', '1', 'echo second'));
    h.store.create('pods', 'default', pod('huge', '3', 'echo never', '2Gi'));
    await waitFor(h.store, () => scheduled('second')?.reason === 'Unschedulable', 'second unschedulable');
    const huge = await waitFor(h.store, () => scheduled('huge')?.reason === 'Unschedulable' && scheduled('huge'), 'huge unschedulable');
    expect(huge.message).toBe(`0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.${NO_VICTIMS}`);
    await waitFor(h.store, () => h.store.get('pods', 'default', 'second').status?.phase === 'Succeeded', 'second ran after first finished', 20_000);
    expect(h.store.get('pods', 'default', 'first').status.phase).toBe('Succeeded');
    expect(h.store.get('pods', 'default', 'huge').spec.nodeName).toBeUndefined();
  });

  it('a pod without requests is scheduled even on a full node', async () => {
    h = await startHarness({ controllers: { nodeCapacity: { cpu: '100m' } }, kubelet: { nodeCapacity: { cpu: '100m' } } });
    h.store.create('pods', 'default', pod('full', '100m'));
    await waitFor(h.store, () => h.store.find('pods', 'default', 'full')?.spec?.nodeName, 'full bound');
    const free: KubeObject = pod('free', '0', 'echo ok');
    delete free.spec.containers[0].resources;
    h.store.create('pods', 'default', free);
    await waitFor(h.store, () => h.store.get('pods', 'default', 'free').status?.phase === 'Succeeded', 'free ran');
  });
});

describe('placement filters (node-filters.ts): what kube-scheduler v1.37 answered for our node', () => {
  const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'sandbox', labels: { 'kubernetes.io/os': 'linux', gpu: 'a100', cores: '8' } }, spec: {} };
  const pod = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [], ...spec } });
  const term = (...matchExpressions: unknown[]) => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions }] } } });
  const NO_MATCH = { reason: "node(s) didn't match Pod's node affinity/selector" };

  it('nodeSelector needs every label equal; required affinity needs one term whose expressions all hold', () => {
    expect(placementFailure(pod({ nodeSelector: { gpu: 'a100' } }), node)).toBeUndefined();
    expect(placementFailure(pod({ nodeSelector: { gpu: 'a100', zone: 'x' } }), node)).toEqual(NO_MATCH);
    expect(placementFailure(pod({ affinity: term({ key: 'gpu', operator: 'In', values: ['h100', 'a100'] }, { key: 'cores', operator: 'Gt', values: ['4'] }) }), node)).toBeUndefined();
    expect(placementFailure(pod({ affinity: term({ key: 'cores', operator: 'Lt', values: ['4'] }) }), node)).toEqual(NO_MATCH);
    expect(placementFailure(pod({ affinity: term({ key: 'gpu', operator: 'NotIn', values: ['a100'] }) }), node)).toEqual(NO_MATCH);
    expect(placementFailure(pod({ affinity: term({ key: 'tpu', operator: 'DoesNotExist' }, { key: 'gpu', operator: 'Exists' }) }), node)).toBeUndefined();
    expect(placementFailure(pod({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{}] } } } }), node)).toEqual(NO_MATCH);
    const byName = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['sandbox'] }] }] } } };
    expect(placementFailure(pod({ affinity: byName }), node)).toBeUndefined();
  });

  it('NoSchedule and NoExecute taints need a toleration (PreferNoSchedule does not); an unschedulable node refuses all but its toleration', () => {
    const tainted = { ...node, spec: { taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }, { key: 'soft', effect: 'PreferNoSchedule' }] } };
    const TAINT = { reason: 'node(s) had untolerated taint(s)' };
    expect(placementFailure(pod({}), tainted)).toEqual(TAINT);
    expect(placementFailure(pod({ tolerations: [{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'other', effect: 'NoSchedule' }] }), tainted)).toEqual(TAINT);
    expect(placementFailure(pod({ tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] }), tainted)).toBeUndefined();
    expect(placementFailure(pod({ tolerations: [{ key: 'nvidia.com/gpu', value: 'present' }] }), tainted)).toBeUndefined();
    expect(placementFailure(pod({ tolerations: [{ operator: 'Exists' }] }), tainted)).toBeUndefined();
    expect(tolerates({ key: 'a', operator: 'Bogus' }, { key: 'a', effect: 'NoSchedule' })).toBe(false);
    const cordoned = { ...node, spec: { unschedulable: true } };
    expect(placementFailure(pod({}), cordoned)).toEqual({ reason: 'node(s) were unschedulable' });
    expect(placementFailure(pod({ tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] }), cordoned)).toBeUndefined();
  });

  it('a pod whose selector no node matches stays Pending with upstream\'s message, and is scheduled once the node gets the label', async () => {
    const h = await startHarness();
    try {
      h.store.create('pods', 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'gpu', namespace: 'default' }, spec: { restartPolicy: 'Never', nodeSelector: { accelerator: 'a100' }, containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo ok'] }] } });
      const ev = await waitFor(h.store, () => eventsFor(h.store, 'default', 'gpu').find((e) => e.reason === 'FailedScheduling'), 'FailedScheduling');
      expect(ev.message).toBe(
        "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
      );
      h.store.patch('nodes', undefined, 'sandbox', 'merge', { metadata: { labels: { accelerator: 'a100' } } });
      await waitFor(h.store, () => h.store.get('pods', 'default', 'gpu').status?.phase === 'Succeeded', 'gpu pod ran once the node was labelled');
    } finally {
      await h.stop();
    }
  });
});
