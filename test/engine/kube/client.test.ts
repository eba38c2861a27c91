import { createServer as createHttpServer } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { ApiException, type V1ConfigMap, type V1Job } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiError, KubeClient, loadKubeConfig, shouldRetry, toKubeApiError, withRetry } from '../../../src/engine/kube/index.js';
import { createCertificateAuthority } from '../../../src/sandbox/pki.js';
import type { PodLogOptions } from '../../../src/sandbox/types.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { configMap, kubeconfigFor, startTestCluster, type TestCluster } from './helpers.js';

describe('KubeClient verbs', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startTestCluster();
    await c.client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'verbs' } });
  });
  afterAll(() => c.stop());

  it('apply is idempotent: applying the same object again keeps its resourceVersion', async () => {
    const first = await c.client.apply(configMap('verbs', 'settings', { MODEL: 'iris' }));
    const again = await c.client.apply(configMap('verbs', 'settings', { MODEL: 'iris' }));
    expect(again.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    const changed = await c.client.apply(configMap('verbs', 'settings', { MODEL: 'wine' }));
    expect(changed.metadata?.resourceVersion).not.toBe(first.metadata?.resourceVersion);
    expect((changed as V1ConfigMap).data).toEqual({ MODEL: 'wine' });
    expect(changed.metadata?.managedFields?.map((f) => [f.manager, f.operation])).toEqual([['bodywork-deploy', 'Apply']]);
  });

  it('tells the version at which its own create or apply made an object (creationVersion), and nothing for other answers', async () => {
    const created = await c.client.create(configMap('verbs', 'born-created', { v: '1' }));
    expect(c.client.creationVersion(created)).toBe(created.metadata?.resourceVersion);
    const applied = await c.client.apply(configMap('verbs', 'born-applied', { v: '1' }));
    expect(c.client.creationVersion(applied)).toBe(applied.metadata?.resourceVersion);
    // An apply that changed or kept an existing object, dry runs (which store nothing) and a read: not a creation.
    const updated = await c.client.apply(configMap('verbs', 'born-applied', { v: '2' }));
    const same = await c.client.apply(configMap('verbs', 'born-applied', { v: '2' }));
    const dryCreate = await c.client.create(configMap('verbs', 'born-dry', { v: '1' }), { dryRun: true });
    const dryApply = await c.client.apply(configMap('verbs', 'born-dry', { v: '1' }), { dryRun: true });
    const read = await c.client.get('ConfigMap', 'verbs', 'born-created');
    for (const o of [updated, same, dryCreate, dryApply, read]) expect(c.client.creationVersion(o)).toBeUndefined();
  });

  it('apply puts a namespaced object without namespace into the context namespace', async () => {
    const cm = await c.client.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'no-ns' }, data: {} });
    expect(cm.metadata?.namespace).toBe('default');
  });

  it('returns typed models, with dates as Date objects, from get and list alike', async () => {
    await c.client.apply({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'typed', namespace: 'verbs', labels: { stage: 'train' } },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'python:3.12', command: ['true'] }] } } },
    });
    const job = await c.client.get<V1Job>('Job', 'verbs', 'typed');
    expect(job.metadata?.creationTimestamp).toBeInstanceOf(Date);
    const listed = await c.client.list<V1Job>('Job', 'verbs', { labelSelector: 'stage=train' });
    expect(listed.items.map((j) => j.metadata?.name)).toEqual(['typed']);
    expect(listed.items[0].metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(listed.items[0]).toMatchObject({ apiVersion: 'batch/v1', kind: 'Job' });
    expect(Number(listed.resourceVersion)).toBeGreaterThanOrEqual(Number(job.metadata?.resourceVersion));
    const byPath = await c.client.listPath<V1Job>('/apis/batch/v1/namespaces/verbs/jobs', { labelSelector: 'stage=train' });
    expect(byPath.items[0].metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(byPath.items[0].spec?.template.spec?.containers[0].command).toEqual(['true']);
    expect((await c.client.list('Job', 'verbs', { labelSelector: 'stage=serve' })).items).toEqual([]);
  });

  it('create, exists, find and delete (true when deleted, false when nothing was there)', async () => {
    await c.client.create(configMap('verbs', 'temp'));
    expect(await c.client.exists('ConfigMap', 'verbs', 'temp')).toBe(true);
    expect(await c.client.delete('ConfigMap', 'verbs', 'temp')).toBe(true);
    expect(await c.client.exists('ConfigMap', 'verbs', 'temp')).toBe(false);
    expect(await c.client.find('ConfigMap', 'verbs', 'temp')).toBeUndefined();
    expect(await c.client.delete('ConfigMap', 'verbs', 'temp')).toBe(false);
  });

  it('counts API requests per verb, discovery apart; the known kinds need none', async () => {
    const client = c.newClient();
    await client.apply(configMap('verbs', 'counted'));
    await client.get('ConfigMap', 'verbs', 'counted');
    await client.list('ConfigMap', 'verbs');
    await client.delete('ConfigMap', 'verbs', 'counted');
    expect(client.requestCounts()).toEqual({ apply: 1, delete: 1, get: 1, list: 1 });
    // A kind outside KNOWN_KINDS is discovered first: client-node caches the list per apiVersion.
    await client.list({ apiVersion: 'v1', kind: 'Node' }, undefined);
    await client.list({ apiVersion: 'v1', kind: 'Node' }, undefined);
    expect(client.requestCounts()).toEqual({ apply: 1, delete: 1, discover: 1, get: 1, list: 3 });
    expect(client.totalRequests()).toBe(7);
  });

  it('rejects an unknown kind name before any request', async () => {
    const client = c.newClient();
    await expect(client.get('Widget', 'verbs', 'x')).rejects.toThrow("unknown kind 'Widget': pass { apiVersion, kind }");
    expect(client.totalRequests()).toBe(0);
  });

  it('an aborted signal stops a call before its request', async () => {
    const client = c.newClient();
    const ac = new AbortController();
    ac.abort();
    await expect(client.get('ConfigMap', 'verbs', 'x', { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(client.totalRequests()).toBe(0);
  });

  it('requests one after another reuse one TLS connection (client-node alone opens one per request)', async () => {
    const client = c.newClient();
    // undici gives the request right after a pool's first a second connection (its first still counts as busy for a
    // moment; plain undici fetch does the same); from then on, none.
    await client.apply(configMap('verbs', 'reuse', { N: '0' }));
    await client.get('ConfigMap', 'verbs', 'reuse');
    const before = c.server.tlsConnections;
    for (let i = 1; i <= 10; i++) {
      await client.apply(configMap('verbs', 'reuse', { N: String(i) }));
      await client.get('ConfigMap', 'verbs', 'reuse');
    }
    await client.list('ConfigMap', 'verbs');
    expect(client.totalRequests()).toBeGreaterThanOrEqual(22);
    expect(c.server.tlsConnections - before).toBe(0);
  });

  it('a changed CA gets a connection of its own: one made under the old CA is not reused for it', async () => {
    const client = c.newClient();
    await client.get('ConfigMap', 'verbs', 'reuse');
    const cluster = client.kc.getCurrentCluster()!;
    const other = await createCertificateAuthority('not the sandbox');
    (cluster as { caData?: string }).caData = Buffer.from(other.cert).toString('base64');
    await expect(client.get('ConfigMap', 'verbs', 'reuse')).rejects.toThrow(/certificate/i);
  });
});

describe('retries against injected faults', () => {
  it('survives seeded 500s: every call succeeds and the counter shows the retries', async () => {
    const c = await startTestCluster({ seed: 11, errorRate: 0.3, pathPattern: /\/configmaps/ });
    try {
      await c.client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'flaky' } });
      for (let i = 0; i < 10; i++) await c.client.apply(configMap('flaky', `cm-${i}`, { i: String(i) }));
      const injected = c.server.faultLog.filter((l) => l.includes(' error ')).length;
      expect(injected).toBeGreaterThan(0);
      expect(c.client.requestCounts().apply).toBe(11 + injected);
      const retries = c.logger.messages('debug').filter((m) => m.startsWith('Retrying apply'));
      expect(retries).toHaveLength(injected);
      expect(retries[0]).toMatch(/^Retrying apply \(attempt 2\/5\) in \d+ ms after: Kubernetes API refused to apply ConfigMap 'cm-\d' in namespace 'flaky': 500 InternalError — Internal error occurred: injected fault; the API server failed to answer, which is usually temporary: try again$/);
      const names = (await c.client.list('ConfigMap', 'flaky')).items.map((i) => i.metadata?.name).filter((n) => n?.startsWith('cm-'));
      expect(names).toHaveLength(10);
    } finally {
      await c.stop();
    }
  });

  it('honours Retry-After of 429s', async () => {
    const c = await startTestCluster({ seed: 1, throttleRate: 0.5, retryAfterSeconds: 1, pathPattern: /\/configmaps\// });
    try {
      await c.client.create(configMap('default', 'throttled'));
      const started = Date.now();
      for (let i = 0; i < 3; i++) await c.client.get('ConfigMap', 'default', 'throttled');
      const elapsed = Date.now() - started;
      const throttled = c.server.faultLog.filter((l) => l.startsWith('GET') && l.includes(' throttle ')).length;
      expect(throttled).toBeGreaterThan(0);
      expect(c.client.requestCounts().get).toBe(3 + throttled);
      expect(elapsed).toBeGreaterThanOrEqual(throttled * 1000);
      expect(c.logger.messages('debug').filter((m) => m.includes('429 TooManyRequests'))[0]).toMatch(/^Retrying get \(attempt 2\/5\) in 1000 ms after: .*\(retry after 1 s\)$/);
    } finally {
      await c.stop();
    }
  });

  it('does not retry a 422', async () => {
    const c = await startTestCluster();
    try {
      await expect(c.client.create(configMap('default', 'Not_Valid'))).rejects.toMatchObject({ statusCode: 422 });
      expect(c.client.requestCounts().create).toBe(1);
      expect(c.logger.messages('debug').some((m) => m.startsWith('Retrying'))).toBe(false);
    } finally {
      await c.stop();
    }
  });

  it('does not retry a 500 of a call that is not idempotent', async () => {
    const c = await startTestCluster({ errorRate: 1, pathPattern: /\/configmaps$/ });
    try {
      const call = c.client.call(
        'create',
        { kind: 'ConfigMap', namespace: 'default', name: 'once' },
        ({ objects }) => objects.create(configMap('default', 'once')),
        { idempotent: false },
      );
      await expect(call).rejects.toMatchObject({ statusCode: 500, retryable: true });
      // The create itself went out once.
      expect(c.client.requestCounts().create).toBe(1);
    } finally {
      await c.stop();
    }
  });

  it('an abort during the back-off ends the wait at once', async () => {
    const ac = new AbortController();
    const logger = new RecordingLogger();
    let attempts = 0;
    const p = withRetry(
      async () => {
        attempts++;
        queueMicrotask(() => ac.abort());
        throw new ApiException(503, 'x', '{"kind":"Status","code":503,"message":"etcd leader changed"}', {});
      },
      { context: { verb: 'get', kind: 'Job', namespace: 'ml', name: 'x' }, idempotent: true, signal: ac.signal, logger, baseMs: 3_600_000, capMs: 3_600_000 },
    );
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    // The back-off is an hour: settling at all means the abort cut it short.
    expect(attempts).toBe(1);
  });
});

describe('shouldRetry', () => {
  const ctx = { verb: 'create' as const, kind: 'Job', namespace: 'ml', name: 'x' };
  const conn = (code: string) => toKubeApiError(Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) }), ctx);
  const http = (code: number) => toKubeApiError(new ApiException(code, 'x', '', {}), ctx);

  it.each([
    ['500', true, false, http(500)],
    ['502', true, false, http(502)],
    ['503', true, false, http(503)],
    ['504', true, false, http(504)],
    ['429', true, true, http(429)],
    ['400', false, false, http(400)],
    ['403', false, false, http(403)],
    ['404', false, false, http(404)],
    ['409', false, false, http(409)],
    ['422', false, false, http(422)],
    ['ECONNREFUSED', true, true, conn('ECONNREFUSED')],
    ['ECONNRESET', true, false, conn('ECONNRESET')],
    ['ETIMEDOUT', true, false, conn('ETIMEDOUT')],
    ['UND_ERR_SOCKET', true, false, conn('UND_ERR_SOCKET')],
    ['ENOTFOUND', false, false, conn('ENOTFOUND')],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', false, false, conn('DEPTH_ZERO_SELF_SIGNED_CERT')],
  ])('%s: retried when idempotent: %s, when not: %s', (_name, idempotent, notIdempotent, err: KubeApiError) => {
    expect(shouldRetry(err, true)).toBe(idempotent);
    expect(shouldRetry(err, false)).toBe(notIdempotent);
  });
});

describe('pod logs', () => {
  it('reads a container log through CoreV1Api as text', async () => {
    const opened: PodLogOptions[] = [];
    const c = await startTestCluster(undefined, {}, {
      logs: {
        open: (_ns, pod, opts) => {
          opened.push(opts);
          const lines = [`${pod} line 1\n`, `${pod} line 2\n`, `${pod} line 3\n`];
          return Readable.from(opts.tailLines !== undefined ? lines.slice(-opts.tailLines) : lines);
        },
      },
    });
    try {
      const container = { name: 'main', image: 'python:3.12', command: ['python', 'train.py'] };
      await c.client.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'trainer', namespace: 'default' }, spec: { restartPolicy: 'Never', containers: [container] } });
      expect(await c.client.podLog('default', 'trainer', { tailLines: 2 })).toBe('trainer line 2\ntrainer line 3\n');
      expect(opened.at(-1)).toMatchObject({ container: 'main', tailLines: 2, previous: false });
      await c.client.apply({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'two', namespace: 'default' },
        spec: { restartPolicy: 'Never', containers: [container, { ...container, name: 'sidecar' }] },
      });
      await expect(c.client.podLog('default', 'two')).rejects.toThrow(
        "Kubernetes API refused to read logs of Pod 'two' in namespace 'default': 400 BadRequest — a container name must be specified for pod two, choose one of: [main sidecar]",
      );
      expect(c.client.requestCounts()['read logs of']).toBe(2);
    } finally {
      await c.stop();
    }
  });
});

describe('create after a lost response', () => {
  it('reads the object back when the retry meets AlreadyExists', async () => {
    const c = await startTestCluster();
    // A proxy that lets the first POST reach the server but cuts the connection instead of returning the answer;
    // like kubectl proxy, it speaks TLS upstream with the server's Host and token.
    let cut = 0;
    const proxy = createHttpServer((req, res) => {
      const target = new URL(req.url ?? '/', c.server.url);
      const headers = { ...req.headers, host: target.host, authorization: `Bearer ${c.server.token}` };
      const upstream = httpsRequest(target, { method: req.method, headers, ca: c.server.caCert }, (up) => {
        if (req.method === 'POST' && cut === 0) {
          cut++;
          up.resume();
          req.socket.destroy();
          return;
        }
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    try {
      const logger = new RecordingLogger();
      const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const client = KubeClient.create(loadKubeConfig({ content: kubeconfigFor(url) }).kc, logger, { retry: { baseMs: 5, capMs: 20 } });
      const created = await client.create<V1ConfigMap>(configMap('default', 'exactly-once', { v: '1' }));
      expect(created.metadata?.uid).toBeTruthy();
      expect(created.data).toEqual({ v: '1' });
      // Read back, so its version may be later than the creation: watches of what came after it must list first.
      expect(client.creationVersion(created)).toBeUndefined();
      expect(cut).toBe(1);
      expect(client.requestCounts()).toMatchObject({ create: 2, get: 1 });
      expect(logger.messages('debug')).toContain("ConfigMap 'exactly-once' exists after a retried create; reading it back");
      expect(logger.messages('debug').find((m) => m.startsWith('Retrying create'))).toMatch(/the connection to http:\/\/127\.0\.0\.1:\d+ was reset \((UND_ERR_SOCKET|ECONNRESET)\)/);
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
      await c.stop();
    }
  });
});
