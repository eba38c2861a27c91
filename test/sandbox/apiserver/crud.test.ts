import { AppsV1Api, BatchV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anyJson, deployment, expectStatus, job, startHarness, type Harness } from './helpers.js';

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

describe('discovery', () => {
  it('kubectl api-resources lists the served types with short names', async () => {
    const r = await h.kubectl(['api-resources']);
    expect(r.code, r.stderr).toBe(0);
    const line = (name: string) => r.stdout.split('\n').find((l) => l.split(/\s+/)[0] === name) ?? '';
    expect(line('deployments')).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
    expect(line('pods')).toMatch(/^pods\s+po\s+v1\s+true\s+Pod/);
    expect(line('namespaces')).toMatch(/^namespaces\s+ns\s+v1\s+false\s+Namespace/);
    expect(line('jobs')).toMatch(/^jobs\s+batch\/v1\s+true\s+Job/);
    expect(line('leases')).toMatch(/coordination\.k8s\.io\/v1\s+true\s+Lease/);
  });

  it('lists main resources before their subresources and answers /version', async () => {
    const res = await h.fetch(`${h.url}/api/v1`);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = await res.json().then(anyJson);
    const names: string[] = body.resources.map((x: any) => x.name);
    expect(names.indexOf('pods')).toBeLessThan(names.indexOf('pods/log'));
    expect(names.indexOf('services')).toBeLessThan(names.indexOf('pods/status'));
    const scale = (await (await h.fetch(`${h.url}/apis/apps/v1`)).json().then(anyJson)).resources.find((x: any) => x.name === 'deployments/scale');
    expect(scale).toMatchObject({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    const v = await (await h.fetch(`${h.url}/version`)).json().then(anyJson);
    expect(v).toMatchObject({ major: '1', minor: '32' });
    expect((await h.fetch(`${h.url}/openapi/v2`)).status).toBe(404);
  });

  it('boots the built-in namespaces, default ServiceAccounts and the kubernetes Service', async () => {
    const ns = await core.listNamespace();
    expect(ns.items.map((n) => n.metadata!.name).sort()).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    expect(ns.items[0].spec!.finalizers).toEqual(['kubernetes']);
    expect(ns.items[0].status!.phase).toBe('Active');
    const sa = await core.readNamespacedServiceAccount({ name: 'default', namespace: 'kube-system' });
    expect(sa.metadata!.uid).toBeTruthy();
    const svc = await core.readNamespacedService({ name: 'kubernetes', namespace: 'default' });
    expect(svc.spec!.clusterIP).toBe('10.96.0.1');
  });
});

describe('CRUD and defaults', () => {
  it('creates a Deployment with server defaults, generation and managedFields', async () => {
    const d = await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('web') as any });
    expect(d.metadata!.generation).toBe(1);
    expect(d.metadata!.creationTimestamp).toBeInstanceOf(Date);
    expect(d.spec!.replicas).toBe(1);
    expect(d.spec!.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
    expect(d.spec!.revisionHistoryLimit).toBe(10);
    expect(d.spec!.progressDeadlineSeconds).toBe(600);
    const c = d.spec!.template.spec!.containers[0];
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(c.terminationMessagePath).toBe('/dev/termination-log');
    expect(c.ports![0].protocol).toBe('TCP');
    expect(d.spec!.template.spec!.dnsPolicy).toBe('ClusterFirst');
    expect(d.metadata!.managedFields![0]).toMatchObject({ operation: 'Update', manager: 'kubernetes-client-javascript' });
  });

  it('bumps generation on spec changes only, and keeps status on main-resource writes', async () => {
    const d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'default' });
    d.metadata!.labels = { ...d.metadata!.labels, extra: 'x' };
    const u1 = await apps.replaceNamespacedDeployment({ name: 'web', namespace: 'default', body: d });
    expect(u1.metadata!.generation).toBe(1);
    expect(Number(u1.metadata!.resourceVersion)).toBeGreaterThan(Number(d.metadata!.resourceVersion));
    u1.spec!.replicas = 3;
    (u1 as any).status = { replicas: 99 };
    const u2 = await apps.replaceNamespacedDeployment({ name: 'web', namespace: 'default', body: u1 });
    expect(u2.metadata!.generation).toBe(2);
    expect(u2.status?.replicas).toBeUndefined();
    const s = h.store.get('apps/deployments', 'default', 'web');
    const st = h.store.update('apps/deployments', 'default', 'web', { ...s, spec: { ...s.spec, replicas: 7 }, status: { replicas: 3 } }, { subresource: 'status' });
    expect(st.status.replicas).toBe(3);
    expect(st.spec.replicas).toBe(3);
    expect(st.metadata.generation).toBe(2);
  });

  it('answers a stale resourceVersion with the exact 409 Conflict', async () => {
    const d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'default' });
    await apps.replaceNamespacedDeployment({ name: 'web', namespace: 'default', body: { ...d, metadata: { ...d.metadata, annotations: { a: '1' } } } });
    const st = await expectStatus(apps.replaceNamespacedDeployment({ name: 'web', namespace: 'default', body: { ...d, metadata: { ...d.metadata, annotations: { a: '2' } } } }));
    expect(st).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again',
      reason: 'Conflict',
      details: { name: 'web', group: 'apps', kind: 'deployments' },
      code: 409,
    });
  });

  it('404 NotFound and 409 AlreadyExists carry the resource plural', async () => {
    const nf = await expectStatus(apps.readNamespacedDeployment({ name: 'nope', namespace: 'default' }));
    expect(nf).toMatchObject({ code: 404, reason: 'NotFound', message: 'deployments.apps "nope" not found', details: { name: 'nope', group: 'apps', kind: 'deployments' } });
    const pnf = await expectStatus(core.readNamespacedPod({ name: 'x', namespace: 'default' }));
    expect(pnf.message).toBe('pods "x" not found');
    expect(pnf.details).toEqual({ name: 'x', kind: 'pods' });
    const ae = await expectStatus(apps.createNamespacedDeployment({ namespace: 'default', body: deployment('web') as any }));
    expect(ae).toMatchObject({ code: 409, reason: 'AlreadyExists', message: 'deployments.apps "web" already exists', details: { name: 'web', group: 'apps', kind: 'deployments' } });
    const nsnf = await expectStatus(core.createNamespacedConfigMap({ namespace: 'ghost', body: { metadata: { name: 'c' } } }));
    expect(nsnf).toMatchObject({ code: 404, message: 'namespaces "ghost" not found', details: { name: 'ghost', kind: 'namespaces' } });
  });

  it('422 Invalid: selector mismatch, bad names, Job restartPolicy, immutable Job template', async () => {
    const bad = deployment('mismatch');
    bad.spec.selector = { matchLabels: { app: 'other' } };
    const st = await expectStatus(apps.createNamespacedDeployment({ namespace: 'default', body: bad as any }));
    expect(st.code).toBe(422);
    expect(st.reason).toBe('Invalid');
    expect(st.message).toBe('Deployment.apps "mismatch" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"mismatch"}: `selector` does not match template `labels`');
    expect(st.details).toMatchObject({ name: 'mismatch', group: 'apps', kind: 'Deployment' });
    expect(st.details.causes[0]).toEqual({ reason: 'FieldValueInvalid', message: 'Invalid value: map[string]string{"app":"mismatch"}: `selector` does not match template `labels`', field: 'spec.template.metadata.labels' });

    const name = await expectStatus(core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'Bad_Name' } } }));
    expect(name.message).toBe(
      `ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    );
    const svc = await expectStatus(core.createNamespacedService({ namespace: 'default', body: { metadata: { name: '1svc' }, spec: { ports: [{ port: 80 }] } } }));
    expect(svc.message).toContain('a DNS-1035 label must consist of lower case alphanumeric characters');

    const always = await expectStatus(batch.createNamespacedJob({ namespace: 'default', body: job('j-always', 'Always') as any }));
    expect(always.message).toBe('Job.batch "j-always" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"');

    const j = await batch.createNamespacedJob({ namespace: 'default', body: job('j1') as any });
    expect(j.spec!.selector!.matchLabels!['batch.kubernetes.io/controller-uid']).toBe(j.metadata!.uid);
    expect(j.spec!.template.metadata!.labels).toMatchObject({ 'job-name': 'j1', 'batch.kubernetes.io/job-name': 'j1', 'controller-uid': j.metadata!.uid });
    expect(j.spec).toMatchObject({ parallelism: 1, completions: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false });
    j.spec!.template.spec!.containers[0].image = 'python:3.13';
    const imm = await expectStatus(batch.replaceNamespacedJob({ name: 'j1', namespace: 'default', body: j }));
    expect(imm.code).toBe(422);
    expect(imm.message).toMatch(/^Job\.batch "j1" is invalid: spec\.template: Invalid value: .*: field is immutable$/);
  });

  it('422 Invalid: volume mounts must name a volume; several errors are joined', async () => {
    const st = await expectStatus(
      core.createNamespacedPod({
        namespace: 'default',
        body: { metadata: { name: 'vols' }, spec: { volumes: [{ name: 'cfg' } as any], containers: [{ name: 'c', image: 'i', volumeMounts: [{ name: 'data', mountPath: '/d' }] }] } },
      }),
    );
    expect(st.message).toBe('Pod "vols" is invalid: [spec.volumes[0]: Required value: must specify a volume type, spec.containers[0].volumeMounts[0].name: Not found: "data"]');
    expect(st.details.causes.map((c: any) => c.reason)).toEqual(['FieldValueRequired', 'FieldValueNotFound']);
  });

  it('422 Invalid: label keys and values', async () => {
    const st = await expectStatus(core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'lbl', labels: { 'bad key!': 'bad value!' } } } }));
    expect(st.details.causes.map((c: any) => c.field)).toEqual(['metadata.labels', 'metadata.labels']);
    expect(st.details.causes[1].message).toBe(
      "Invalid value: \"bad value!\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    );
  });

  it('unknown paths are 404, unsupported verbs 405', async () => {
    const nf = await h.fetch(`${h.url}/apis/apps/v1/namespaces/default/statefulsets`);
    expect(nf.status).toBe(404);
    expect((await nf.json().then(anyJson)).message).toBe('the server could not find the requested resource');
    const na = await h.fetch(`${h.url}/api/v1/namespaces`, { method: 'DELETE' });
    expect(na.status).toBe(405);
    expect((await na.json().then(anyJson)).reason).toBe('MethodNotAllowed');
  });

  it('CronJobs: defaults, schedule validation, kubectl columns', async () => {
    const cj = (name: string, schedule: string) => ({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name },
      spec: { schedule, jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'main', image: 'python:3.12' }] } } } } },
    });
    const c = await batch.createNamespacedCronJob({ namespace: 'default', body: cj('nightly', '0 3 * * *') as any });
    expect(c.spec).toMatchObject({ concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    expect(c.metadata!.generation).toBe(1);
    const bad = await expectStatus(batch.createNamespacedCronJob({ namespace: 'default', body: cj('bad', '0 3 * *') as any }));
    expect(bad.message).toBe('CronJob.batch "bad" is invalid: spec.schedule: Invalid value: "0 3 * *": expected exactly 5 fields, found 4: [0 3 * *]');
    const g = await h.kubectl(['get', 'cronjobs']);
    expect(g.stdout.split('\n')[0].split(/\s{2,}/)).toEqual(['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE']);
    expect(g.stdout).toMatch(/nightly\s+0 3 \* \* \*\s+<none>\s+False\s+0\s+<none>/);
  });

  it('generateName gives 5 lowercase alphanumerics', async () => {
    const cm = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { generateName: 'gen-' }, data: { a: 'b' } } });
    expect(cm.metadata!.name).toMatch(/^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const st = await expectStatus(core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: {} } }));
    expect(st.message).toBe('ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required');
  });

  it('filters lists with label and field selectors and rejects unknown fields', async () => {
    for (const [n, tier, env] of [['a', 'web', 'prod'], ['b', 'web', 'dev'], ['c', 'db', 'prod'], ['d', 'cache', '']] as const) {
      const labels: Record<string, string> = { tier };
      if (env) labels.env = env;
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: `sel-${n}`, labels } } });
    }
    const names = async (labelSelector?: string, fieldSelector?: string) =>
      (await core.listNamespacedConfigMap({ namespace: 'default', labelSelector, fieldSelector })).items.map((x) => x.metadata!.name).filter((x) => x!.startsWith('sel-'));
    expect(await names('tier=web')).toEqual(['sel-a', 'sel-b']);
    expect(await names('tier==web,env!=prod')).toEqual(['sel-b']);
    expect(await names('tier in (db,cache)')).toEqual(['sel-c', 'sel-d']);
    expect(await names('tier notin (web),env')).toEqual(['sel-c']);
    expect(await names('tier,!env')).toEqual(['sel-d']);
    expect(await names(undefined, 'metadata.name=sel-c')).toEqual(['sel-c']);
    expect(await names('tier', 'metadata.name!=sel-a')).toEqual(['sel-b', 'sel-c', 'sel-d']);
    const st = await expectStatus(core.listNamespacedConfigMap({ namespace: 'default', fieldSelector: 'spec.foo=bar' }));
    expect(st).toMatchObject({ code: 400, reason: 'BadRequest', message: 'field label not supported: spec.foo' });
    const all = await core.listPodForAllNamespaces({ fieldSelector: 'status.phase=Running' });
    expect(all.items).toEqual([]);
  });

  it('pages lists with limit/continue', async () => {
    for (let i = 0; i < 5; i++) await core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: `page-${i}`, labels: { paged: 'yes' } } } });
    const seen: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      const page = await core.listNamespacedSecret({ namespace: 'default', labelSelector: 'paged=yes', limit: 2, _continue: cont });
      seen.push(...page.items.map((x) => x.metadata!.name!));
      cont = page.metadata!._continue;
      pages++;
    } while (cont);
    expect(pages).toBe(3);
    expect(seen).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    const first = await core.listNamespacedSecret({ namespace: 'default', limit: 1 });
    expect(first.metadata!.remainingItemCount).toBeGreaterThan(0);
  });

  it('serves lists with kind, apiVersion and resourceVersion; 415 on unknown media types', async () => {
    const res = await h.fetch(`${h.url}/apis/apps/v1/namespaces/default/deployments`);
    const body = await res.json().then(anyJson);
    expect(body.kind).toBe('DeploymentList');
    expect(body.apiVersion).toBe('apps/v1');
    expect(Number(body.metadata.resourceVersion)).toBeGreaterThan(0);
    expect(body.items[0]).toMatchObject({ kind: 'Deployment', apiVersion: 'apps/v1' });
    const bad = await h.fetch(`${h.url}/api/v1/namespaces/default/configmaps`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a,b' });
    expect(bad.status).toBe(415);
    expect((await bad.json().then(anyJson)).reason).toBe('UnsupportedMediaType');
    const patch = await h.fetch(`${h.url}/api/v1/namespaces/default/configmaps/sel-a`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(patch.status).toBe(415);
  });

  it('pods/binding assigns a node once', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'tobind' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } });
    await core.createNamespacedPodBinding({ name: 'tobind', namespace: 'default', body: { metadata: { name: 'tobind' }, target: { kind: 'Node', name: 'sandbox' } } });
    expect((await core.readNamespacedPod({ name: 'tobind', namespace: 'default' })).spec!.nodeName).toBe('sandbox');
    const again = await expectStatus(core.createNamespacedPodBinding({ name: 'tobind', namespace: 'default', body: { metadata: { name: 'tobind' }, target: { kind: 'Node', name: 'other' } } }));
    expect(again).toMatchObject({ code: 409, message: 'Operation cannot be fulfilled on pods/binding "tobind": pod tobind is already assigned to node "sandbox"' });
  });

  it('dryRun=All validates without storing', async () => {
    const d = await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('dry') as any, dryRun: 'All' });
    expect(d.metadata!.name).toBe('dry');
    expect(h.store.find('apps/deployments', 'default', 'dry')).toBeUndefined();
  });

  it('kubectl create, get and delete work end to end', async () => {
    const manifest = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-kubectl' }, data: { k: 'v' } });
    const c = await h.kubectl(['create', '--validate=false', '-f', '-'], manifest);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toContain('configmap/from-kubectl created');
    const g = await h.kubectl(['get', 'configmap', 'from-kubectl', '-o', 'jsonpath={.data.k}']);
    expect(g.stdout).toBe('v');
    const missing = await h.kubectl(['get', 'deploy', 'nope']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('Error from server (NotFound): deployments.apps "nope" not found');
    const d = await h.kubectl(['delete', 'configmap', 'from-kubectl']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain('configmap "from-kubectl" deleted');
    expect(h.store.find('configmaps', 'default', 'from-kubectl')).toBeUndefined();
  });
});
