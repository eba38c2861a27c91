import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './helpers.js';

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
