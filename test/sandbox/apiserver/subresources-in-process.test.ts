/** The binding and scale subresources in-process: the store applies the same rules as the HTTP handlers. */
import { afterEach, describe, expect, it } from 'vitest';
import { createClusterStore } from '../../../src/sandbox/apiserver/index.js';
import { startControllers, type Controllers } from '../../../src/sandbox/controllers/index.js';
import type { KubeObject } from '../../../src/sandbox/types.js';

const running: Controllers[] = [];
afterEach(async () => {
  for (const c of running.splice(0)) await c.stop();
});

function store() {
  const s = createClusterStore();
  // The default ServiceAccount pods need.
  running.push(startControllers(s, { enabled: ['serviceaccount'] }));
  return s;
}

const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
const binding = (target?: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p', ...extra }, ...(target ? { target: { kind: 'Node', name: target } } : {}) });

describe('pods/binding in-process', () => {
  it('assigns the node once; a second binding, a missing target or a wrong uid fail as over HTTP', () => {
    const s = store();
    const created = s.create('pods', 'default', pod);
    expect(() => s.create('pods', 'default', binding(), { subresource: 'binding' })).toThrow(/target.name: Required value/);
    expect(() => s.create('pods', 'default', binding('n1', { uid: 'other' }), { subresource: 'binding' })).toThrow(/Precondition failed: UID in precondition: other/);
    const bound = s.create('pods', 'default', binding('n1', { uid: created.metadata.uid }), { subresource: 'binding' });
    expect(bound.spec.nodeName).toBe('n1');
    expect(() => s.create('pods', 'default', binding('n2'), { subresource: 'binding' })).toThrow(/pod p is already assigned to node "n1"/);
  });
});

describe('scale in-process', () => {
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd' },
    spec: { selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
  };
  const scale = (replicas: unknown, resourceVersion?: string): KubeObject => ({ apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'd', resourceVersion }, spec: { replicas } });

  it('sets spec.replicas from a Scale, with its checks and resourceVersion precondition; an absent replicas is 0', () => {
    const s = store();
    const d = s.create('apps/deployments', 'default', deployment);
    expect(s.update('apps/deployments', 'default', 'd', scale(3), { subresource: 'scale' }).spec.replicas).toBe(3);
    expect(() => s.update('apps/deployments', 'default', 'd', scale(-1), { subresource: 'scale' })).toThrow(/Scale.autoscaling "d" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0/);
    expect(() => s.update('apps/deployments', 'default', 'd', scale(1.5), { subresource: 'scale' })).toThrow(/must be an integer/);
    expect(() => s.update('apps/deployments', 'default', 'd', scale(2, d.metadata.resourceVersion), { subresource: 'scale' })).toThrow(/the object has been modified/);
    expect(s.update('apps/deployments', 'default', 'd', scale(undefined), { subresource: 'scale' }).spec.replicas).toBe(0);
  });
});
