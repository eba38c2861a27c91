import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anyJson, startHarness, type Harness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

// Typed kubectl commands send application/vnd.kubernetes.protobuf bodies.
describe('kubectl typed commands (protobuf bodies)', () => {
  it('create namespace, configmap, secret, deployment, job, service', async () => {
    const run = async (...args: string[]) => {
      const r = await h.kubectl(args);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    expect(await run('create', 'namespace', 'typed')).toContain('namespace/typed created');
    expect(h.store.get('namespaces', undefined, 'typed').spec.finalizers).toEqual(['kubernetes']);
    await run('create', 'configmap', 'cfg', '-n', 'typed', '--from-literal=a=1', '--from-literal=b=two');
    expect(h.store.get('configmaps', 'typed', 'cfg').data).toEqual({ a: '1', b: 'two' });
    await run('create', 'secret', 'generic', 'sec', '-n', 'typed', '--from-literal=token=s3cr3t');
    const sec = h.store.get('secrets', 'typed', 'sec');
    expect(sec.type).toBe('Opaque');
    expect(Buffer.from(sec.data.token, 'base64').toString()).toBe('s3cr3t');
    await run('create', 'deployment', 'web', '-n', 'typed', '--image=nginx:1.27', '--replicas=0', '--port=8080');
    const d = h.store.get('apps/deployments', 'typed', 'web');
    expect(d.spec.replicas).toBe(0);
    expect(d.spec.selector).toEqual({ matchLabels: { app: 'web' } });
    expect(d.spec.template.spec.containers[0]).toMatchObject({ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 8080, protocol: 'TCP' }] });
    expect(d.spec.template.metadata.creationTimestamp).toBeUndefined();
    await run('create', 'job', 'once', '-n', 'typed', '--image=busybox', '--', 'echo', 'hi');
    const j = h.store.get('batch/jobs', 'typed', 'once');
    expect(j.spec.template.spec).toMatchObject({ restartPolicy: 'Never', containers: [{ name: 'once', command: ['echo', 'hi'] }] });
    await run('create', 'service', 'clusterip', 'svc', '-n', 'typed', '--tcp=80:8080');
    const s = h.store.get('services', 'typed', 'svc');
    expect(s.spec.ports[0]).toMatchObject({ name: '80-8080', port: 80, targetPort: 8080, protocol: 'TCP' });
    expect(s.spec.clusterIP).toMatch(/^10\.(9[6-9]|10\d|11[01])\./);
    const dup = await h.kubectl(['create', 'namespace', 'typed']);
    expect(dup.stderr).toContain('Error from server (AlreadyExists): namespaces "typed" already exists');
  });
});

describe('OpenAPI v3 discovery and server-side field validation', () => {
  const manifest = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'validated' },
      spec: { selector: { matchLabels: { app: 'v' } }, template: { metadata: { labels: { app: 'v' } }, spec: { containers: [{ name: 'c', image: 'nginx', ...extra }] } } },
    });

  it('kubectl apply works without --validate=false and unknown fields fail like on a real server', async () => {
    const bad = await h.kubectl(['apply', '-f', '-'], manifest({ imagee: 'typo' }));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('Error from server (BadRequest): error when creating "STDIN": strict decoding error: unknown field "spec.template.spec.containers[0].imagee"');
    const ok = await h.kubectl(['apply', '-f', '-'], manifest());
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('deployment.apps/validated created');
    const warn = await h.kubectl(['apply', '--validate=warn', '-f', '-'], manifest({ imagee: 'typo' }));
    expect(warn.code, warn.stderr).toBe(0);
    expect(warn.stderr).toContain('Warning: unknown field "spec.template.spec.containers[0].imagee"');
  });

  it('serves an index and per-group documents; field validation modes over HTTP', async () => {
    const index = await (await h.fetch(`${h.url}/openapi/v3`)).json().then(anyJson);
    expect(Object.keys(index.paths)).toEqual(expect.arrayContaining(['api/v1', 'apis/apps/v1', 'apis/batch/v1']));
    const doc = await (await h.fetch(`${h.url}${index.paths['apis/batch/v1'].serverRelativeURL}`)).json().then(anyJson);
    const patch = doc.paths['/apis/batch/v1/namespaces/{namespace}/jobs/{name}'].patch;
    expect(patch['x-kubernetes-group-version-kind']).toEqual({ group: 'batch', version: 'v1', kind: 'Job' });
    expect(patch.parameters.map((p: any) => p.name)).toContain('fieldValidation');
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fv', bogus: 1 }, data: { a: 'b' }, extra: true });
    const post = (mode?: string) =>
      h.fetch(`${h.url}/api/v1/namespaces/default/configmaps${mode ? `?fieldValidation=${mode}` : ''}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const strict = await post('Strict');
    expect(strict.status).toBe(400);
    expect((await strict.json().then(anyJson)).message).toBe('strict decoding error: unknown field "metadata.bogus", unknown field "extra"');
    const warn = await post();
    expect(warn.status).toBe(201);
    expect(warn.headers.get('warning')).toBe('299 - "unknown field \\"metadata.bogus\\"", 299 - "unknown field \\"extra\\""');
    const wrongKind = await h.fetch(`${h.url}/api/v1/namespaces/default/configmaps`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } }) });
    expect(wrongKind.status).toBe(400);
  });
});
