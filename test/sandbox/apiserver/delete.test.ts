import { AppsV1Api, BatchV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/sandbox/types.js';
import { anyJson, deployment, expectStatus, job, startHarness, until, type Harness } from './helpers.js';

let h: Harness;
let core: CoreV1Api;
let apps: AppsV1Api;
let batch: BatchV1Api;

beforeAll(async () => {
  h = await startHarness();
  core = h.kc.makeApiClient(CoreV1Api);
  apps = h.kc.makeApiClient(AppsV1Api);
  batch = h.kc.makeApiClient(BatchV1Api);
});
afterAll(() => h.close());

const ownerRef = (o: KubeObject, block = true) => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name!, uid: o.metadata.uid!, controller: true, blockOwnerDeletion: block });

/** A Deployment -> ReplicaSet -> Pod chain written through the store, as the controllers would. */
function chain(name: string, ns = 'default', nodeName?: string) {
  const d = h.store.create('apps/deployments', ns, deployment(name) as KubeObject);
  const rs = h.store.create('apps/replicasets', ns, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: `${name}-rs`, labels: { app: name }, ownerReferences: [ownerRef(d)] },
    spec: { selector: { matchLabels: { app: name } }, template: deployment(name).spec.template },
  } as KubeObject);
  const pod = h.store.create('pods', ns, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${name}-pod`, labels: { app: name }, ownerReferences: [ownerRef(rs)] },
    spec: { containers: [{ name: 'web', image: 'nginx' }], ...(nodeName ? { nodeName } : {}) },
  } as KubeObject);
  return { d, rs, pod };
}

describe('deletion', () => {
  it('DELETE answers a Success Status for most kinds and the object for pods', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'gone' } } });
    const uid = h.store.get('configmaps', 'default', 'gone').metadata.uid;
    const res = await h.fetch(`${h.url}/api/v1/namespaces/default/configmaps/gone`, { method: 'DELETE' });
    expect(await res.json().then(anyJson)).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'gone', kind: 'configmaps', uid } });
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'p0' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } });
    const pr = await h.fetch(`${h.url}/api/v1/namespaces/default/pods/p0`, { method: 'DELETE' });
    expect((await pr.json().then(anyJson)).kind).toBe('Pod');
  });

  it('finalizers keep the object (deletionTimestamp) until removed', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'held', finalizers: ['example.com/hold'] } } });
    // The typed client decodes DELETE answers as V1Status; read the raw body.
    const r = await (await h.fetch(`${h.url}/api/v1/namespaces/default/configmaps/held`, { method: 'DELETE' })).json().then(anyJson);
    expect(r.kind).toBe('ConfigMap');
    expect(r.metadata.deletionTimestamp).toBeTruthy();
    const held = await core.readNamespacedConfigMap({ name: 'held', namespace: 'default' });
    expect(held.metadata!.deletionTimestamp).toBeInstanceOf(Date);
    await core.patchNamespacedConfigMap({ name: 'held', namespace: 'default', body: [{ op: 'remove', path: '/metadata/finalizers' }] });
    expect((await expectStatus(core.readNamespacedConfigMap({ name: 'held', namespace: 'default' }))).code).toBe(404);
  });

  it('Background: the owner goes now, dependents follow through the GC', async () => {
    chain('bg');
    await apps.deleteNamespacedDeployment({ name: 'bg', namespace: 'default', propagationPolicy: 'Background' });
    expect(h.store.find('apps/deployments', 'default', 'bg')).toBeUndefined();
    await until(() => !h.store.find('apps/replicasets', 'default', 'bg-rs') && !h.store.find('pods', 'default', 'bg-pod'));
  });

  it('Orphan: dependents stay and lose their ownerReference', async () => {
    const { d } = chain('orph');
    await apps.deleteNamespacedDeployment({ name: 'orph', namespace: 'default', propagationPolicy: 'Orphan' });
    await until(() => !h.store.find('apps/deployments', 'default', 'orph'));
    await h.controllers.settle();
    const rs = h.store.get('apps/replicasets', 'default', 'orph-rs');
    expect(rs.metadata.ownerReferences).toBeUndefined();
    expect(JSON.stringify(rs)).not.toContain(d.metadata.uid!);
    expect(h.store.find('pods', 'default', 'orph-pod')).toBeDefined();
  });

  it('Foreground: the owner stays (foregroundDeletion) until blocking dependents are gone', async () => {
    chain('fg');
    const r = await (
      await h.fetch(`${h.url}/apis/apps/v1/namespaces/default/deployments/fg`, { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ propagationPolicy: 'Foreground' }) })
    ).json().then(anyJson);
    expect(r.metadata.finalizers).toEqual(['foregroundDeletion']);
    expect(r.metadata.deletionTimestamp).toBeTruthy();
    await until(() => !h.store.find('apps/deployments', 'default', 'fg'));
    expect(h.store.find('apps/replicasets', 'default', 'fg-rs')).toBeUndefined();
    expect(h.store.find('pods', 'default', 'fg-pod')).toBeUndefined();
  });

  it('batch/v1 Jobs orphan their pods by default; kubectl (Background) deletes them', async () => {
    const j = await batch.createNamespacedJob({ namespace: 'default', body: job('jd') as any });
    const mkPod = (name: string) =>
      h.store.create('pods', 'default', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, labels: { 'job-name': 'jd' }, ownerReferences: [ownerRef({ ...(j as any), apiVersion: 'batch/v1', kind: 'Job' })] },
        spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'python:3.12' }] },
      } as KubeObject);
    mkPod('jd-pod');
    await batch.deleteNamespacedJob({ name: 'jd', namespace: 'default' });
    await until(() => !h.store.find('batch/jobs', 'default', 'jd'));
    await h.controllers.settle();
    const orphan = h.store.get('pods', 'default', 'jd-pod');
    expect(orphan.metadata.ownerReferences).toBeUndefined();

    const j2 = await batch.createNamespacedJob({ namespace: 'default', body: job('jk') as any });
    h.store.create('pods', 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'jk-pod', ownerReferences: [ownerRef({ ...(j2 as any), apiVersion: 'batch/v1', kind: 'Job' })] },
      spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'python:3.12' }] },
    } as KubeObject);
    const k = await h.kubectl(['delete', 'job', 'jk']);
    expect(k.code, k.stderr).toBe(0);
    await until(() => !h.store.find('pods', 'default', 'jk-pod'));
  });

  it('pods on a node are deleted gracefully until the kubelet confirms with grace 0', async () => {
    h.store.create('pods', 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'graceful' }, spec: { nodeName: 'sandbox', terminationGracePeriodSeconds: 20, containers: [{ name: 'c', image: 'busybox' }] } } as KubeObject);
    const r = await core.deleteNamespacedPod({ name: 'graceful', namespace: 'default' });
    expect(r.metadata!.deletionGracePeriodSeconds).toBe(20);
    const p = h.store.get('pods', 'default', 'graceful');
    expect(Date.parse(p.metadata.deletionTimestamp!) - Date.now()).toBeGreaterThan(15_000);
    const shorter = h.store.delete('pods', 'default', 'graceful', { gracePeriodSeconds: 5 })!;
    expect(shorter.metadata.deletionGracePeriodSeconds).toBe(5);
    expect(h.store.delete('pods', 'default', 'graceful', { gracePeriodSeconds: 0, preconditions: { uid: p.metadata.uid } })).toBeUndefined();
    expect(h.store.find('pods', 'default', 'graceful')).toBeUndefined();
  });

  it('dependents whose owner vanished are collected', async () => {
    h.store.create('configmaps', 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dangling', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'ghost', uid: '00000000-0000-0000-0000-000000000000' }] } } as KubeObject);
    await until(() => !h.store.find('configmaps', 'default', 'dangling'));
  });

  it('deletecollection by label selector', async () => {
    for (const n of ['dc-1', 'dc-2', 'dc-3']) await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: n, labels: { batch: n === 'dc-3' ? 'b' : 'a' } } } });
    await core.deleteCollectionNamespacedConfigMap({ namespace: 'default', labelSelector: 'batch=a' });
    expect(h.store.list('configmaps', 'default', { labelSelector: 'batch' }).items.map((x) => x.metadata.name)).toEqual(['dc-3']);
  });
});

describe('namespaces', () => {
  it('refuses to delete default and kube-system', async () => {
    const st = await expectStatus(core.deleteNamespace({ name: 'default' }));
    expect(st).toMatchObject({ code: 403, reason: 'Forbidden', message: 'namespaces "default" is forbidden: this namespace may not be deleted' });
  });

  it('kubectl delete namespace: Terminating, refuses creates, removes everything, then itself', async () => {
    const ns = await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    expect(ns.metadata!.labels).toEqual({ 'kubernetes.io/metadata.name': 'doomed' });
    expect(ns.spec!.finalizers).toEqual(['kubernetes']);
    expect(h.store.find('serviceaccounts', 'doomed', 'default')).toBeDefined();
    chain('inner', 'doomed', 'sandbox');
    await core.createNamespacedSecret({ namespace: 'doomed', body: { metadata: { name: 's' }, stringData: { k: 'v' } } });
    expect(h.store.get('secrets', 'doomed', 's').data).toEqual({ k: 'dg==' });

    const kubectlDone = h.kubectl(['delete', 'namespace', 'doomed', '--timeout=20s']);
    await until(() => h.store.find('namespaces', undefined, 'doomed')?.status?.phase === 'Terminating');
    const st = await expectStatus(core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'late' } } }));
    expect(st).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated',
      reason: 'Forbidden',
      details: { name: 'late', kind: 'configmaps', causes: [{ reason: 'NamespaceTerminating', message: 'namespace doomed is being terminated', field: 'metadata.namespace' }] },
      code: 403,
    });
    // The scheduled pod waits for the kubelet's confirmation; play the kubelet.
    const pod = await until(() => {
      const p = h.store.find('pods', 'doomed', 'inner-pod');
      return p?.metadata.deletionTimestamp ? p : undefined;
    });
    const stuck = await until(() => {
      const n = h.store.find('namespaces', undefined, 'doomed');
      return n?.status?.conditions ? n : undefined;
    });
    expect(stuck.status.conditions.find((c: any) => c.type === 'NamespaceContentRemaining')).toMatchObject({
      status: 'True',
      reason: 'SomeResourcesRemain',
      message: 'Some resources are remaining: pods. has 1 resource instances',
    });
    h.store.delete('pods', 'doomed', 'inner-pod', { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
    const k = await kubectlDone;
    expect(k.code, k.stderr).toBe(0);
    expect(k.stdout).toContain('namespace "doomed" deleted');
    expect(h.store.find('namespaces', undefined, 'doomed')).toBeUndefined();
    for (const key of ['configmaps', 'secrets', 'serviceaccounts', 'pods', 'apps/replicasets', 'apps/deployments']) {
      expect(h.store.list(key, 'doomed').items).toEqual([]);
    }
  });
});
