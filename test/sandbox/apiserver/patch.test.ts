import { AppsV1Api, CoreV1Api, KubernetesObjectApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anyJson, deployment, expectStatus, startHarness, type Harness } from './helpers.js';

let h: Harness;
let core: CoreV1Api;
let apps: AppsV1Api;
let objects: KubernetesObjectApi;

beforeAll(async () => {
  h = await startHarness();
  core = h.kc.makeApiClient(CoreV1Api);
  apps = h.kc.makeApiClient(AppsV1Api);
  objects = KubernetesObjectApi.makeApiClient(h.kc);
});
afterAll(() => h.close());

const two = () => {
  const d = deployment('two');
  (d.spec.template.spec as any).containers = [
    { name: 'web', image: 'nginx:1.27', env: [{ name: 'A', value: '1' }] },
    { name: 'side', image: 'busybox:1.36' },
  ];
  return d;
};

describe('JSON, merge and strategic merge patches', () => {
  it('JSON patch (the default content type of typed clients)', async () => {
    await apps.createNamespacedDeployment({ namespace: 'default', body: two() as any });
    const p = await apps.patchNamespacedDeployment({ name: 'two', namespace: 'default', body: [{ op: 'replace', path: '/spec/replicas', value: 4 }, { op: 'add', path: '/metadata/annotations', value: { x: 'y' } }] });
    expect(p.spec!.replicas).toBe(4);
    expect(p.metadata!.annotations).toEqual({ x: 'y' });
    expect(p.metadata!.generation).toBe(2);
    const bad = await expectStatus(apps.patchNamespacedDeployment({ name: 'two', namespace: 'default', body: [{ op: 'test', path: '/spec/replicas', value: 5 }] }));
    expect(bad.code).toBe(422);
  });

  it('merge patch replaces lists wholesale and deletes with null', async () => {
    const p = await apps.patchNamespacedDeployment(
      { name: 'two', namespace: 'default', body: { metadata: { annotations: { x: null, z: 'w' } }, spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.28' }] } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(p.metadata!.annotations).toEqual({ z: 'w' });
    expect(p.spec!.template.spec!.containers.map((c) => c.name)).toEqual(['web']);
    expect(p.spec!.template.spec!.containers[0].env).toBeUndefined();
  });

  it('strategic merge merges containers by name, env by name, and honours $patch: delete', async () => {
    await apps.replaceNamespacedDeployment({ name: 'two', namespace: 'default', body: { ...(two() as any), metadata: { name: 'two', labels: { app: 'two' } } } });
    const p = await apps.patchNamespacedDeployment(
      {
        name: 'two',
        namespace: 'default',
        body: { spec: { template: { spec: { containers: [{ name: 'side', image: 'busybox:1.37' }, { name: 'web', env: [{ name: 'B', value: '2' }] }] } } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const cs = p.spec!.template.spec!.containers;
    expect(cs.map((c) => `${c.name}=${c.image}`)).toEqual(['web=nginx:1.27', 'side=busybox:1.37']);
    expect(cs[0].env!.map((e) => e.name)).toEqual(['A', 'B']);
    const d = await apps.patchNamespacedDeployment(
      { name: 'two', namespace: 'default', body: { spec: { template: { spec: { containers: [{ name: 'side', $patch: 'delete' }] } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(d.spec!.template.spec!.containers.map((c) => c.name)).toEqual(['web']);
  });

  it('strategic merge: finalizers are a set; $deleteFromPrimitiveList removes', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'fin', finalizers: ['a/x'] } } });
    const ct = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
    const p = await core.patchNamespacedConfigMap({ name: 'fin', namespace: 'default', body: { metadata: { finalizers: ['b/y', 'a/x'] } } }, ct);
    expect(p.metadata!.finalizers).toEqual(['a/x', 'b/y']);
    const q = await core.patchNamespacedConfigMap({ name: 'fin', namespace: 'default', body: { metadata: { '$deleteFromPrimitiveList/finalizers': ['a/x', 'b/y'] } } }, ct);
    expect(q.metadata!.finalizers).toBeUndefined();
  });

  it('a patch carrying a stale resourceVersion conflicts', async () => {
    const st = await expectStatus(
      core.patchNamespacedConfigMap({ name: 'fin', namespace: 'default', body: { metadata: { resourceVersion: '1' }, data: { a: 'b' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
    );
    expect(st.code).toBe(409);
    expect(st.message).toContain('the object has been modified');
  });
});

describe('server-side apply', () => {
  const cm = (data: Record<string, string>, labels?: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa', namespace: 'default', ...(labels ? { labels } : {}) }, data });

  it('creates (201) and re-applying the same object changes nothing', async () => {
    const res = await h.fetch(`${h.url}/api/v1/namespaces/default/configmaps/ssa-raw?fieldManager=raw`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/apply-patch+yaml' },
      body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa-raw\ndata:\n  k: v\n',
    });
    expect(res.status).toBe(201);
    const a: any = await objects.patch(cm({ a: '1', b: '2' }, { team: 'ml' }), undefined, undefined, 'deployer', true, PatchStrategy.ServerSideApply);
    const b: any = await objects.patch(cm({ a: '1', b: '2' }, { team: 'ml' }), undefined, undefined, 'deployer', true, PatchStrategy.ServerSideApply);
    expect(b.metadata!.resourceVersion).toBe(a.metadata!.resourceVersion);
    const mf = b.metadata.managedFields.find((m: any) => m.manager === 'deployer')!;
    expect(mf.operation).toBe('Apply');
    // An applied set holds leaves, not map nodes ('.'), as kube-apiserver v1.37 records it.
    expect(mf.fieldsV1).toEqual({ 'f:data': { 'f:a': {}, 'f:b': {} }, 'f:metadata': { 'f:labels': { 'f:team': {} } } });
  });

  it('removes fields the manager stopped applying', async () => {
    const c = (await objects.patch(cm({ a: '1' }), undefined, undefined, 'deployer', true, PatchStrategy.ServerSideApply)) as any;
    expect(c.data).toEqual({ a: '1' });
    expect(c.metadata.labels).toBeUndefined();
  });

  it('conflicts with another manager unless forced', async () => {
    const st = await expectStatus(objects.patch(cm({ a: '9' }), undefined, undefined, 'other', false, PatchStrategy.ServerSideApply));
    expect(st).toMatchObject({ code: 409, reason: 'Conflict', message: 'Apply failed with 1 conflict: conflict with "deployer": .data.a' });
    expect(st.details.causes).toEqual([{ reason: 'FieldManagerConflict', message: 'conflict with "deployer"', field: '.data.a' }]);
    // Same value: shared ownership, no conflict.
    await objects.patch(cm({ a: '1' }), undefined, undefined, 'other', false, PatchStrategy.ServerSideApply);
    // An Update manager's field: conflict names the apiVersion it used.
    await core.patchNamespacedConfigMap({ name: 'ssa', namespace: 'default', body: { data: { u: 'x' } }, fieldManager: 'editor' }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const st2 = await expectStatus(objects.patch(cm({ a: '1', u: 'y' }), undefined, undefined, 'deployer', false, PatchStrategy.ServerSideApply));
    expect(st2.message).toBe('Apply failed with 1 conflict: conflict with "editor" using v1: .data.u');
    const forced = (await objects.patch(cm({ a: '1', u: 'y' }), undefined, undefined, 'deployer', true, PatchStrategy.ServerSideApply)) as any;
    expect(forced.data).toEqual({ a: '1', u: 'y' });
    expect(forced.metadata.managedFields.find((m: any) => m.manager === 'editor')).toBeUndefined();
  });

  it('requires a fieldManager and rejects managedFields in the body', async () => {
    const r = await h.fetch(`${h.url}/api/v1/namespaces/default/configmaps/ssa`, { method: 'PATCH', headers: { 'content-type': 'application/apply-patch+yaml' }, body: JSON.stringify(cm({ a: '1' })) });
    expect(r.status).toBe(422);
    expect((await r.json().then(anyJson)).message).toBe('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  });

  it('kubectl apply --server-side creates, is idempotent, and reports conflicts', async () => {
    const manifest = JSON.stringify(deployment('kapply'));
    const a = await h.kubectl(['apply', '--server-side', '--validate=false', '-f', '-'], manifest);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain('deployment.apps/kapply serverside-applied');
    const rv1 = h.store.get('apps/deployments', 'default', 'kapply').metadata.resourceVersion;
    const b = await h.kubectl(['apply', '--server-side', '--validate=false', '-f', '-'], manifest);
    expect(b.code, b.stderr).toBe(0);
    expect(h.store.get('apps/deployments', 'default', 'kapply').metadata.resourceVersion).toBe(rv1);
    const scaled = await h.kubectl(['scale', 'deployment/kapply', '--replicas=3']);
    expect(scaled.code, scaled.stderr).toBe(0);
    const changed = deployment('kapply');
    (changed.spec as any).replicas = 5;
    const c = await h.kubectl(['apply', '--server-side', '--validate=false', '-f', '-'], JSON.stringify(changed));
    expect(c.code).not.toBe(0);
    expect(c.stderr).toContain('conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas');
    const f = await h.kubectl(['apply', '--server-side', '--force-conflicts', '--validate=false', '-f', '-'], JSON.stringify(changed));
    expect(f.code, f.stderr).toBe(0);
    expect(h.store.get('apps/deployments', 'default', 'kapply').spec.replicas).toBe(5);
  });

  it('merges keyed lists by key and drops list items the manager stopped applying', async () => {
    const d = (containers: { name: string; image: string }[], replicas?: number) => {
      const o: any = deployment('lists');
      o.metadata.namespace = 'default';
      o.spec.template.spec.containers = containers;
      if (replicas !== undefined) o.spec.replicas = replicas;
      return o;
    };
    await objects.patch(d([{ name: 'a', image: 'x:1' }, { name: 'b', image: 'y:1' }], 2), undefined, undefined, 'm1', false, PatchStrategy.ServerSideApply);
    // Another manager adds a sidecar to the same list: a different key, no conflict, both survive.
    await objects.patch(d([{ name: 'c', image: 'z:1' }]), undefined, undefined, 'm2', false, PatchStrategy.ServerSideApply);
    let live = h.store.get('apps/deployments', 'default', 'lists');
    expect(live.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['a', 'b', 'c']);
    expect(live.spec.replicas).toBe(2);
    await objects.patch(d([{ name: 'a', image: 'x:2' }]), undefined, undefined, 'm1', false, PatchStrategy.ServerSideApply);
    live = h.store.get('apps/deployments', 'default', 'lists');
    expect(live.spec.template.spec.containers.map((c: any) => `${c.name}=${c.image}`)).toEqual(['a=x:2', 'c=z:1']);
    // m1 stopped applying replicas: the field is gone from its set and defaulting brings it back to 1.
    expect(live.spec.replicas).toBe(1);
    expect(live.metadata.generation).toBe(3);
  });

  it('treats selectors as atomic: owned whole, replaced whole', async () => {
    const svc = (selector: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'atomic', namespace: 'default' }, spec: { selector, ports: [{ port: 80 }] } });
    await objects.patch(svc({ app: 'a', tier: 'web' }), undefined, undefined, 'one', false, PatchStrategy.ServerSideApply);
    const st = await expectStatus(objects.patch(svc({ app: 'b' }), undefined, undefined, 'two', false, PatchStrategy.ServerSideApply));
    expect(st.message).toBe('Apply failed with 1 conflict: conflict with "one": .spec.selector');
    const forced = (await objects.patch(svc({ app: 'b' }), undefined, undefined, 'two', true, PatchStrategy.ServerSideApply)) as any;
    expect(forced.spec.selector).toEqual({ app: 'b' });
  });

  it('managedFields sent in a write replace the stored ones; [{}] clears them', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'mf' }, data: { a: '1' } }, fieldManager: 'creator' });
    const cur = h.store.get('configmaps', 'default', 'mf');
    const moved = cur.metadata.managedFields!.map((e: any) => ({ ...e, manager: 'adopter', operation: 'Apply' }));
    await core.patchNamespacedConfigMap({ name: 'mf', namespace: 'default', body: [{ op: 'replace', path: '/metadata/managedFields', value: moved }] });
    expect(h.store.get('configmaps', 'default', 'mf').metadata.managedFields!.map((e: any) => `${e.manager}/${e.operation}`)).toEqual(['adopter/Apply']);
    // The adopter now owns data.a through Apply: applying it without data.a removes the field.
    const after = (await objects.patch({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mf', namespace: 'default' }, data: { b: '2' } } as any, undefined, undefined, 'adopter', false, PatchStrategy.ServerSideApply)) as any;
    expect(after.data).toEqual({ b: '2' });
    await core.patchNamespacedConfigMap({ name: 'mf', namespace: 'default', body: { metadata: { managedFields: [{}] } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(h.store.get('configmaps', 'default', 'mf').metadata.managedFields).toBeUndefined();
  });

  it('scale subresource reads and writes spec.replicas', async () => {
    const s = await apps.readNamespacedDeploymentScale({ name: 'kapply', namespace: 'default' });
    expect(s.spec!.replicas).toBe(5);
    expect(s.status!.selector).toBe('app=kapply');
    const u = await apps.replaceNamespacedDeploymentScale({ name: 'kapply', namespace: 'default', body: { ...s, spec: { replicas: 2 } } });
    expect(u.spec!.replicas).toBe(2);
    expect(h.store.get('apps/deployments', 'default', 'kapply').spec.replicas).toBe(2);
  });
});
