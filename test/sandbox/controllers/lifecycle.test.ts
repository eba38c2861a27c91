/**
 * The controllers the object lifecycle relies on (garbage collector, namespace controller, ServiceAccounts, root-CA
 * publisher), on a store in-process with a hand-stepped clock: no timing, the test waits until their queues are empty.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createClusterStore, type SandboxStore } from '../../../src/sandbox/apiserver/index.js';
import { LIFECYCLE_CONTROLLERS, startControllers, type Controllers } from '../../../src/sandbox/controllers/index.js';
import type { KubeObject } from '../../../src/sandbox/types.js';
import { FakeClock } from '../../support/fake-clock.js';

let running: Controllers | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

function start(): { store: SandboxStore; clock: FakeClock } {
  const store = createClusterStore();
  const clock = new FakeClock();
  running = startControllers(store, { enabled: [...LIFECYCLE_CONTROLLERS], clock, rootCA: 'CA-PEM' });
  return { store, clock };
}

/** Until the controllers have nothing left to do. */
const settle = (): Promise<void> => running!.settle();

const cm = (name: string, owner?: KubeObject, extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(owner ? { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner.metadata.name!, uid: owner.metadata.uid!, blockOwnerDeletion: true }] } : {}), ...extra },
});

describe('ServiceAccounts controller and root-CA publisher', () => {
  it('give the namespaces present at start and every new one a default ServiceAccount and kube-root-ca.crt, in the same turn', () => {
    const { store } = start();
    expect(store.find('serviceaccounts', 'kube-system', 'default')).toBeDefined();
    store.create('namespaces', undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ml' } });
    expect(store.find('serviceaccounts', 'ml', 'default')).toBeDefined();
    expect(store.get('configmaps', 'ml', 'kube-root-ca.crt').data).toEqual({ 'ca.crt': 'CA-PEM' });
    // A pod right after its namespace passes ServiceAccount admission.
    store.create('pods', 'ml', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  });

  it('re-create them when they are deleted', async () => {
    const { store } = start();
    store.delete('serviceaccounts', 'default', 'default');
    store.delete('configmaps', 'default', 'kube-root-ca.crt');
    expect(store.find('serviceaccounts', 'default', 'default')).toBeUndefined();
    await settle();
    expect(store.find('serviceaccounts', 'default', 'default')).toBeDefined();
    expect(store.find('configmaps', 'default', 'kube-root-ca.crt')).toBeDefined();
  });
});

describe('garbage collector', () => {
  it('Background: dependents whose owners are all gone are deleted', async () => {
    const { store } = start();
    const owner = store.create('configmaps', 'default', cm('owner'));
    const other = store.create('configmaps', 'default', cm('other'));
    store.create('configmaps', 'default', cm('child', owner));
    const both = cm('both', owner);
    both.metadata.ownerReferences!.push({ apiVersion: 'v1', kind: 'ConfigMap', name: 'other', uid: other.metadata.uid! });
    store.create('configmaps', 'default', both);
    store.delete('configmaps', 'default', 'owner');
    expect(store.find('configmaps', 'default', 'child')).toBeDefined();
    await settle();
    expect(store.find('configmaps', 'default', 'child')).toBeUndefined();
    expect(store.find('configmaps', 'default', 'both')).toBeDefined();
  });

  it('Orphan: dependents lose their owner reference, then the owner goes', async () => {
    const { store } = start();
    const owner = store.create('configmaps', 'default', cm('owner'));
    store.create('configmaps', 'default', cm('child', owner));
    expect(store.delete('configmaps', 'default', 'owner', { propagationPolicy: 'Orphan' })?.metadata.finalizers).toEqual(['orphan']);
    await settle();
    expect(store.find('configmaps', 'default', 'owner')).toBeUndefined();
    expect(store.get('configmaps', 'default', 'child').metadata.ownerReferences).toBeUndefined();
  });

  it('Foreground: the owner stays until its blocking dependents are gone', async () => {
    const { store } = start();
    const owner = store.create('configmaps', 'default', cm('owner'));
    store.create('configmaps', 'default', cm('held', owner, { finalizers: ['example.com/hold'] }));
    store.delete('configmaps', 'default', 'owner', { propagationPolicy: 'Foreground' });
    await settle();
    expect(store.get('configmaps', 'default', 'held').metadata.deletionTimestamp).toBeTruthy();
    expect(store.get('configmaps', 'default', 'owner').metadata.finalizers).toEqual(['foregroundDeletion']);
    store.patch('configmaps', 'default', 'held', 'merge', { metadata: { finalizers: null } });
    await settle();
    expect(store.find('configmaps', 'default', 'owner')).toBeUndefined();
  });
});

describe('namespace controller', () => {
  it('empties a Terminating namespace, reports what remains, then finalizes and removes it', async () => {
    const { store } = start();
    store.create('namespaces', undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gone' } });
    store.create('configmaps', 'gone', cm('data'));
    store.create('configmaps', 'gone', cm('held', undefined, { finalizers: ['example.com/hold'] }));
    const deleting = store.delete('namespaces', undefined, 'gone');
    expect(deleting?.status?.phase).toBe('Terminating');
    expect(() => store.create('configmaps', 'gone', cm('late'))).toThrow(/is being terminated/);
    await settle();
    expect(store.list('configmaps', 'gone').items.map((o) => o.metadata.name)).toEqual(['held']);
    const ns = store.get('namespaces', undefined, 'gone');
    expect(ns.spec.finalizers).toEqual(['kubernetes']);
    expect(ns.status.conditions.find((c: any) => c.type === 'NamespaceFinalizersRemaining')).toMatchObject({ status: 'True', message: 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances' });
    // Still content: a DELETE meanwhile is refused, as upstream's.
    expect(() => store.delete('namespaces', undefined, 'gone')).toThrow(/ensuring all content is removed/);

    store.patch('configmaps', 'gone', 'held', 'merge', { metadata: { finalizers: null } });
    await settle();
    expect(store.find('namespaces', undefined, 'gone')).toBeUndefined();
  });
});
