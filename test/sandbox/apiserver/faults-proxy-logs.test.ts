import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { CoreV1Api, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StatusError, badRequest } from '../../../src/sandbox/apiserver/index.js';
import type { KubeObject, PodLogOptions, PodLogSource } from '../../../src/sandbox/types.js';
import { anyJson, expectStatus, startHarness, until, type Harness } from './helpers.js';

describe('fault injection', () => {
  async function run(seed: number): Promise<{ codes: number[]; log: readonly string[]; retryAfter: string[] }> {
    const h = await startHarness({ faults: { seed, errorRate: 0.3, throttleRate: 0.2, retryAfterSeconds: 2, latencyMs: [0, 5] } });
    try {
      const codes: number[] = [];
      const retryAfter: string[] = [];
      for (let i = 0; i < 30; i++) {
        const res = await h.fetch(`${h.url}/api/v1/namespaces/default/configmaps`);
        codes.push(res.status);
        if (res.status === 429) retryAfter.push(res.headers.get('retry-after') ?? '');
        if (res.status === 500) expect((await res.json().then(anyJson)).reason).toBe('InternalError');
        else await res.arrayBuffer();
      }
      // Discovery and health are left alone.
      for (let i = 0; i < 10; i++) expect((await h.fetch(`${h.url}/api/v1`)).status).toBe(200);
      expect((await h.fetch(`${h.url}/healthz`)).status).toBe(200);
      return { codes, log: [...h.server.faultLog], retryAfter };
    } finally {
      await h.close();
    }
  }

  it('is reproducible from the seed and injects 500s and 429s with Retry-After', async () => {
    const a = await run(42);
    const b = await run(42);
    const c = await run(7);
    expect(a.codes).toEqual(b.codes);
    expect(a.log).toEqual(b.log);
    expect(a.codes).not.toEqual(c.codes);
    expect(a.codes).toContain(500);
    expect(a.codes).toContain(429);
    expect(a.codes).toContain(200);
    expect(new Set(a.retryAfter)).toEqual(new Set(['2']));
  });

  it('cuts watches after N seconds and answers resumes with 410', async () => {
    const h = await startHarness({ faults: { watchCutAfterSeconds: 1, expireOnResume: true } });
    try {
      const events: string[] = [];
      let done = false;
      await new Watch(h.kc).watch('/api/v1/namespaces/default/configmaps', {}, (t) => events.push(t), () => (done = true));
      // Ending at all is the cut: without it the server keeps a watch open for 30 to 60 minutes.
      await until(() => done);
      const resumed: any[] = [];
      let done2 = false;
      await new Watch(h.kc).watch('/api/v1/namespaces/default/configmaps', { resourceVersion: h.store.resourceVersion() }, (t, o) => resumed.push({ t, o }), () => (done2 = true));
      await until(() => done2);
      expect(resumed).toHaveLength(1);
      expect(resumed[0].t).toBe('ERROR');
      expect(resumed[0].o).toMatchObject({ code: 410, reason: 'Expired' });
    } finally {
      await h.close();
    }
  });
});

describe('service proxy', () => {
  let h: Harness;
  let backend: http.Server;
  let port: number;
  beforeAll(async () => {
    h = await startHarness();
    backend = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        res.writeHead(201, { 'content-type': 'application/json', 'x-backend': 'yes' });
        res.end(JSON.stringify({ method: req.method, url: req.url, body }));
      });
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
    port = (backend.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await h.close();
    await new Promise((r) => backend.close(r));
  });

  it('forwards to a ready endpoint and streams the answer back; 503 without endpoints', async () => {
    h.store.create('services', 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'model' }, spec: { selector: { app: 'model' }, ports: [{ name: 'http', port: 80, targetPort: port }] } } as KubeObject);
    const none = await h.fetch(`${h.url}/api/v1/namespaces/default/services/model/proxy/score`);
    expect(none.status).toBe(503);
    expect(await none.json().then(anyJson)).toMatchObject({ code: 503, reason: 'ServiceUnavailable', message: 'no endpoints available for service "model"' });
    h.store.create('endpoints', 'default', {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'model' },
      subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'http', port, protocol: 'TCP' }] }],
    } as KubeObject);
    const res = await h.fetch(`${h.url}/api/v1/namespaces/default/services/model:http/proxy/score/v1?x=1`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-backend')).toBe('yes');
    expect(await res.json().then(anyJson)).toEqual({ method: 'POST', url: '/score/v1?x=1', body: '{"a":1}' });
    // By the Service port's number: its name is looked up. No port in the path means the unnamed one, which this
    // Service lacks: 503, as kube-apiserver answers (the planned Services' one port is unnamed for this reason).
    const byNumber = await h.fetch(`${h.url}/api/v1/namespaces/default/services/model:80/proxy/`);
    expect((await byNumber.json().then(anyJson)).url).toBe('/');
    const plain = await h.fetch(`${h.url}/api/v1/namespaces/default/services/model/proxy/`);
    expect(plain.status).toBe(503);
    expect(await plain.json().then(anyJson)).toMatchObject({ message: 'no endpoints available for service "model"' });
    const noPort = await h.fetch(`${h.url}/api/v1/namespaces/default/services/model:81/proxy/`);
    expect(await noPort.json().then(anyJson)).toMatchObject({ code: 503, message: 'no service port 81 found for service "model"' });
    h.store.create('pods', 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'model-0' }, spec: { containers: [{ name: 'c', image: 'i', ports: [{ name: 'http', containerPort: port }] }] } } as KubeObject);
    const pod = h.store.get('pods', 'default', 'model-0');
    h.store.update('pods', 'default', 'model-0', { ...pod, status: { ...pod.status, podIP: '127.0.0.1' } }, { subresource: 'status' });
    const viaPod = await h.fetch(`${h.url}/api/v1/namespaces/default/pods/model-0:http/proxy/healthz`);
    expect(await viaPod.json().then(anyJson)).toMatchObject({ method: 'GET', url: '/healthz' });
    const svcs = h.kc.makeApiClient(CoreV1Api);
    const nf = await expectStatus(svcs.readNamespacedService({ name: 'nope', namespace: 'default' }));
    expect(nf.code).toBe(404);
  });
});

describe('pod logs', () => {
  let h: Harness;
  const calls: PodLogOptions[] = [];
  const logs: PodLogSource = {
    open(_ns, pod, opts) {
      calls.push(opts);
      if (opts.previous) throw badRequest(`previous terminated container "${opts.container}" in pod "${pod}" not found`);
      if (!opts.follow) return Readable.from(['line 1\n', 'line 2\n']);
      const s = new PassThrough();
      s.write('first\n');
      setTimeout(() => s.end('last\n'), 200);
      return s;
    },
  };
  beforeAll(async () => {
    h = await startHarness({ logs });
    h.store.create('pods', 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'one' }, spec: { containers: [{ name: 'main', image: 'python' }] } } as KubeObject);
    h.store.create('pods', 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'two' }, spec: { initContainers: [{ name: 'init', image: 'busybox' }], containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }] } } as KubeObject);
  });
  afterAll(() => h.close());

  it('serves text/plain logs through the typed client and streams follow', async () => {
    const core = h.kc.makeApiClient(CoreV1Api);
    const text = await core.readNamespacedPodLog({ name: 'one', namespace: 'default', tailLines: 5 });
    expect(text).toBe('line 1\nline 2\n');
    expect(calls.at(-1)).toMatchObject({ container: 'main', tailLines: 5, follow: false });
    const res = await h.fetch(`${h.url}/api/v1/namespaces/default/pods/one/log?follow=true`);
    expect(res.headers.get('content-type')).toBe('text/plain');
    expect(await res.text()).toBe('first\nlast\n');
  });

  it('answers the API server wording for missing/unknown containers and previous', async () => {
    const core = h.kc.makeApiClient(CoreV1Api);
    const st = await expectStatus(core.readNamespacedPodLog({ name: 'two', namespace: 'default' }));
    expect(st.message).toBe('a container name must be specified for pod two, choose one of: [a b] or one of the init containers: [init]');
    const bad = await expectStatus(core.readNamespacedPodLog({ name: 'two', namespace: 'default', container: 'zz' }));
    expect(bad.message).toBe('container zz is not valid for pod two');
    const prev = await expectStatus(core.readNamespacedPodLog({ name: 'one', namespace: 'default', previous: true }));
    expect(prev).toMatchObject({ code: 400, message: 'previous terminated container "main" in pod "one" not found' });
    expect(StatusError).toBeDefined();
  });
});
