/**
 * kubectl v1.32's typed commands (create namespace|deployment|job|configmap|secret|serviceaccount|role|rolebinding|
 * service|ingress) POST `application/vnd.kubernetes.protobuf` bodies; the sandbox decodes them and answers JSON,
 * which the Accept header `application/vnd.kubernetes.protobuf,application/json` allows.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../src/sandbox/index.js';
import { cat, entry, k8s, ld, msg, vi } from './encoder.js';
import { sandboxFetch } from '../apiserver/helpers.js';

const KUBECTL = '/usr/bin/kubectl';
const PB = 'application/vnd.kubernetes.protobuf';

let sb: Sandbox;
let dir: string;
let kubeconfig: string;

function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(KUBECTL, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), '-n', 'pb', ...args], { timeout: 90_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function ok(...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  expect(r.code, `kubectl ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

async function getJson(...args: string[]): Promise<any> {
  return JSON.parse(await ok('get', ...args, '-o', 'json'));
}

function post(path: string, body: Uint8Array, contentType = PB): Promise<Response> {
  return sandboxFetch(sb)(`${sb.url}${path}`, { method: 'POST', headers: { 'content-type': contentType, accept: `${PB},application/json` }, body });
}

beforeAll(async () => {
  sb = await startSandbox();
  dir = mkdtempSync(join(tmpdir(), 'pb-kubectl-'));
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, sb.kubeconfig);
  await ok('create', 'namespace', 'pb');
}, 60_000);

afterAll(async () => {
  await sb?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('typed kubectl commands (protobuf bodies)', () => {
  it('create namespace', async () => {
    expect(await ok('create', 'namespace', 'pb2')).toContain('namespace/pb2 created');
    const ns = await getJson('namespace', 'pb2');
    expect(ns.metadata.name).toBe('pb2');
    expect(ns.status.phase).toBe('Active');
    const dup = await kubectl('create', 'namespace', 'pb2');
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toContain('Error from server (AlreadyExists): namespaces "pb2" already exists');
  });

  it('create deployment, scale, expose, delete', async () => {
    expect(await ok('create', 'deployment', 'web', '--image=busybox', '--replicas=2', '--port=8080', '--', 'sh', '-c', 'sleep 300')).toContain('deployment.apps/web created');
    const d = await getJson('deployment', 'web');
    expect(d.metadata.labels).toEqual({ app: 'web' });
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.selector).toEqual({ matchLabels: { app: 'web' } });
    expect(d.spec.template.metadata.labels).toEqual({ app: 'web' });
    expect(d.spec.template.spec.containers).toHaveLength(1);
    expect(d.spec.template.spec.containers[0]).toMatchObject({ name: 'busybox', image: 'busybox', command: ['sh', '-c', 'sleep 300'], ports: [{ containerPort: 8080, protocol: 'TCP' }] });
    expect(typeof d.metadata.creationTimestamp).toBe('string');

    expect(await ok('scale', 'deployment', 'web', '--replicas=3')).toContain('deployment.apps/web scaled');
    expect((await getJson('deployment', 'web')).spec.replicas).toBe(3);

    expect(await ok('expose', 'deployment', 'web', '--port=80', '--target-port=8080', '--name=web-svc')).toContain('service/web-svc exposed');
    const svc = await getJson('service', 'web-svc');
    expect(svc.spec.selector).toEqual({ app: 'web' });
    expect(svc.spec.ports[0]).toMatchObject({ port: 80, targetPort: 8080, protocol: 'TCP' });

    expect(await ok('delete', 'deployment', 'web')).toContain('deployment.apps "web" deleted');
    const gone = await kubectl('get', 'deployment', 'web');
    expect(gone.stderr).toContain('NotFound');
  }, 120_000);

  it('create job: it runs, completes and its logs show the output', async () => {
    expect(await ok('create', 'job', 'hi', '--image=busybox', '--', 'sh', '-c', 'echo hi from a protobuf job')).toContain('job.batch/hi created');
    const j = await getJson('job', 'hi');
    expect(j.spec.template.spec).toMatchObject({ restartPolicy: 'Never', containers: [{ name: 'hi', image: 'busybox', command: ['sh', '-c', 'echo hi from a protobuf job'] }] });
    expect(await ok('wait', '--for=condition=complete', '--timeout=60s', 'job/hi')).toContain('job.batch/hi condition met');
    expect(await ok('logs', 'job/hi')).toBe('hi from a protobuf job\n');
    expect(await ok('delete', 'job', 'hi')).toContain('job.batch "hi" deleted');
  }, 120_000);

  it('create configmap and secret generic --from-literal', async () => {
    await ok('create', 'configmap', 'cfg', '--from-literal=a=1', '--from-literal=greeting=hello world');
    expect((await getJson('configmap', 'cfg')).data).toEqual({ a: '1', greeting: 'hello world' });
    await ok('create', 'secret', 'generic', 'sec', '--from-literal=token=s3cr3t', '--from-literal=empty=');
    const s = await getJson('secret', 'sec');
    expect(s.type).toBe('Opaque');
    expect(Buffer.from(s.data.token, 'base64').toString()).toBe('s3cr3t');
    expect(s.data.empty).toBe('');
    expect(await ok('get', 'secret', 'sec', '-o', 'jsonpath={.data.token}')).toBe(Buffer.from('s3cr3t').toString('base64'));
    // non-UTF-8 file content goes to binaryData (protobuf bytes -> base64)
    const bin = Buffer.from([0, 0xff, 0xfe, 0x80, 0x7f, 10]);
    writeFileSync(join(dir, 'blob.bin'), bin);
    writeFileSync(join(dir, 'text.txt'), 'line\n');
    await ok('create', 'configmap', 'files', `--from-file=${join(dir, 'blob.bin')}`, `--from-file=${join(dir, 'text.txt')}`);
    const files = await getJson('configmap', 'files');
    expect(files.binaryData).toEqual({ 'blob.bin': bin.toString('base64') });
    expect(files.data).toEqual({ 'text.txt': 'line\n' });
    await ok('create', 'secret', 'docker-registry', 'pull', '--docker-server=r.example', '--docker-username=u', '--docker-password=p');
    const pull = await getJson('secret', 'pull');
    expect(pull.type).toBe('kubernetes.io/dockerconfigjson');
    expect(JSON.parse(Buffer.from(pull.data['.dockerconfigjson'], 'base64').toString()).auths['r.example']).toMatchObject({ username: 'u', password: 'p' });
  });

  it('create serviceaccount, role, rolebinding', async () => {
    expect(await ok('create', 'serviceaccount', 'robot')).toContain('serviceaccount/robot created');
    expect((await getJson('serviceaccount', 'robot')).metadata.name).toBe('robot');
    await ok('create', 'role', 'reader', '--verb=get,list', '--resource=pods,deployments.apps');
    expect((await getJson('role', 'reader')).rules).toEqual([
      { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] },
      { verbs: ['get', 'list'], apiGroups: ['apps'], resources: ['deployments'] },
    ]);
    await ok('create', 'rolebinding', 'read', '--role=reader', '--serviceaccount=pb:robot', '--user=alice');
    const rb = await getJson('rolebinding', 'read');
    expect(rb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' });
    // kubectl lists users, then groups, then service accounts
    expect(rb.subjects).toEqual([
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' },
      { kind: 'ServiceAccount', name: 'robot', namespace: 'pb' },
    ]);
  });

  it('create clusterrole and clusterrolebinding', async () => {
    await ok('create', 'clusterrole', 'logs-reader', '--verb=get', '--non-resource-url=/logs/*');
    expect((await getJson('clusterrole', 'logs-reader')).rules).toEqual([{ verbs: ['get'], nonResourceURLs: ['/logs/*'] }]);
    await ok('create', 'clusterrolebinding', 'logs-readers', '--clusterrole=logs-reader', '--group=devs');
    const crb = await getJson('clusterrolebinding', 'logs-readers');
    expect(crb.subjects).toEqual([{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'devs' }]);
    expect(crb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'logs-reader' });
  });

  it('create service clusterip and ingress', async () => {
    await ok('create', 'service', 'clusterip', 'api', '--tcp=80:8080', '--tcp=443:https');
    const svc = await getJson('service', 'api');
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.selector).toEqual({ app: 'api' });
    expect(svc.spec.ports).toEqual([
      expect.objectContaining({ name: '80-8080', port: 80, targetPort: 8080, protocol: 'TCP' }),
      expect.objectContaining({ name: '443-https', port: 443, targetPort: 'https', protocol: 'TCP' }),
    ]);
    await ok('create', 'ingress', 'ing', '--rule=foo.example/api*=api:80');
    const ing = await getJson('ingress', 'ing');
    expect(ing.spec.rules).toEqual([{ host: 'foo.example', http: { paths: [{ path: '/api', pathType: 'Prefix', backend: { service: { name: 'api', port: { number: 80 } } } }] } }]);
  });
});

describe('protobuf over raw HTTP', () => {
  it('a Pod with volumes, probes and env sources decodes with its inlined structs', async () => {
    const container = cat(
      ld(1, 'app'),
      ld(2, 'busybox'),
      ld(3, 'sh'),
      ld(3, '-c'),
      ld(3, 'sleep 30'),
      msg(7, ld(1, 'A'), msg(3, msg(3, msg(1, ld(1, 'cfg')), ld(2, 'a')))),
      msg(9, ld(1, 'scratch'), ld(3, '/scratch')),
      msg(10, msg(1, msg(1, ld(1, 'true'))), vi(4, 5)),
    );
    const volume = msg(1, ld(1, 'scratch'), msg(2, msg(2, ld(1, ''))));
    const cfgVolume = msg(1, ld(1, 'cfg'), msg(2, msg(19, msg(1, ld(1, 'cfg')), vi(3, 0o644))));
    const body = k8s('v1', 'Pod', cat(msg(1, ld(1, 'rawpod'), entry(11, 'app', 'raw')), msg(2, volume, cfgVolume, msg(2, container), vi(4, 1))));
    const res = await post('/api/v1/namespaces/pb/pods?fieldValidation=Strict', body);
    expect(res.status, await res.clone().text()).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/json');
    const pod = await getJson('pod', 'rawpod');
    expect(pod.metadata.labels).toEqual({ app: 'raw' });
    expect(pod.spec.volumes).toEqual([
      { name: 'scratch', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'cfg', defaultMode: 0o644 } },
    ]);
    const c = pod.spec.containers[0];
    expect(c.env).toEqual([{ name: 'A', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'a' } } }]);
    expect(c.livenessProbe).toMatchObject({ exec: { command: ['true'] }, periodSeconds: 5 });
    expect(c.volumeMounts).toEqual([{ name: 'scratch', mountPath: '/scratch' }]);
    await ok('delete', 'pod', 'rawpod', '--wait=false');
  });

  it('kubectl apply -f of a manifest with volumes, probes and key selectors passes strict field validation', async () => {
    const f = join(dir, 'vp.json');
    writeFileSync(
      f,
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'vp' },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: 'vp' } },
          template: {
            metadata: { labels: { app: 'vp' } },
            spec: {
              volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }],
              containers: [
                {
                  name: 'c',
                  image: 'busybox',
                  env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'sec', key: 'token' } } }],
                  livenessProbe: { httpGet: { port: 8080, path: '/' } },
                },
              ],
            },
          },
        },
      }),
    );
    expect(await ok('apply', '-f', f)).toContain('deployment.apps/vp created');
    const d = await getJson('deployment', 'vp');
    expect(d.spec.template.spec.volumes).toEqual([{ name: 'cfg', configMap: { name: 'cfg', defaultMode: 420 } }]);
    const typo = join(dir, 'typo.json');
    writeFileSync(typo, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'typo' }, spec: { volumes: [{ name: 'v', configMap: { nme: 'x' } }], containers: [{ name: 'c', image: 'busybox' }] } }));
    const bad = await kubectl('apply', '-f', typo);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('strict decoding error: unknown field "spec.volumes[0].configMap.nme"');
  });

  it('errors: undecodable bodies are 400 with the message type and field number; other media types 415', async () => {
    const unknown = await post('/apis/apps/v1/namespaces/pb/deployments', k8s('apps/v1', 'Deployment', cat(msg(1, ld(1, 'x')), msg(2, vi(1, 1), vi(77, 1)))));
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).message).toBe(
      'Deployment in version "v1" cannot be handled as a Deployment: protobuf: unknown field number 77 (wire type 0 (varint)) in message apps.v1.DeploymentSpec at spec',
    );
    const notProto = await post('/api/v1/namespaces/pb/configmaps', Buffer.from('{"kind":"ConfigMap"}'));
    expect(notProto.status).toBe(400);
    expect((await notProto.json()).message).toBe('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
    const cbor = await post('/api/v1/namespaces/pb/configmaps', Uint8Array.of(0xa0), 'application/cbor');
    expect(cbor.status).toBe(415);
    expect((await cbor.json()).message).toBe(
      'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf',
    );
    expect(await kubectl('get', 'deployment', 'x')).toMatchObject({ code: 1 });
  });

  it('DeleteOptions as protobuf', async () => {
    await ok('create', 'configmap', 'doomed', '--from-literal=a=b');
    const res = await sandboxFetch(sb)(`${sb.url}/api/v1/namespaces/pb/configmaps/doomed`, {
      method: 'DELETE',
      headers: { 'content-type': PB },
      body: k8s('v1', 'DeleteOptions', cat(vi(1, 0), ld(4, 'Background'))),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const bad = await sandboxFetch(sb)(`${sb.url}/api/v1/namespaces/pb/configmaps/cfg`, {
      method: 'DELETE',
      headers: { 'content-type': PB },
      body: k8s('v1', 'DeleteOptions', ld(4, 'Sideways')),
    });
    expect(bad.status).toBe(422);
    expect((await getJson('configmap', 'cfg')).metadata.name).toBe('cfg');
    expect((await kubectl('get', 'configmap', 'doomed')).stderr).toContain('NotFound');
  });
});
