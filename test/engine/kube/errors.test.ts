import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, type V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiError, KubeClient, loadKubeConfig, toKubeApiError } from '../../../src/engine/kube/index.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { configMap, kubeconfigFor, startTestCluster, type TestCluster } from './helpers.js';

let c: TestCluster;
beforeAll(async () => {
  c = await startTestCluster();
  await c.client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'errs' } });
});
afterAll(() => c.stop());

/** The KubeApiError a call rejects with (fails the test when it resolves). */
async function failure(p: Promise<unknown>): Promise<KubeApiError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KubeApiError);
    return e as KubeApiError;
  }
  throw new Error('expected the call to fail');
}

function job(name: string, command: string[]) {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'errs' },
    spec: {
      backoffLimit: 0,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'python:3.12', command }] } },
    },
  };
}

describe('KubeApiError from the API server', () => {
  it('404: names the verb, the object and says it is missing', async () => {
    const e = await failure(c.client.get('Job', 'errs', 'stage-1'));
    expect(e.message).toBe(`Kubernetes API refused to get Job 'stage-1' in namespace 'errs': 404 NotFound — jobs.batch "stage-1" not found; it does not exist (yet, or any more)`);
    expect(e).toMatchObject({ verb: 'get', kind: 'Job', namespace: 'errs', objectName: 'stage-1', statusCode: 404, reason: 'NotFound', retryable: false });
  });

  it('404 for a missing namespace: hints to create it', async () => {
    const e = await failure(c.client.create(configMap('no-such-ns', 'cfg')));
    expect(e.message).toBe(
      `Kubernetes API refused to create ConfigMap 'cfg' in namespace 'no-such-ns': 404 NotFound — namespaces "no-such-ns" not found; create namespace 'no-such-ns' first or deploy to an existing one`,
    );
  });

  it('409 AlreadyExists on create of an existing object', async () => {
    await c.client.create(configMap('errs', 'taken'));
    const e = await failure(c.client.create(configMap('errs', 'taken')));
    expect(e.message).toBe(`Kubernetes API refused to create ConfigMap 'taken' in namespace 'errs': 409 AlreadyExists — configmaps "taken" already exists; an object with this name exists already`);
    expect(e.isAlreadyExists).toBe(true);
    expect(e.isConflict).toBe(false);
  });

  it('409 Conflict on an update with a stale resourceVersion', async () => {
    const cm = await c.client.apply(configMap('errs', 'versioned', { a: '1' }));
    await c.client.apply(configMap('errs', 'versioned', { a: '2' }));
    const stale = { ...cm, data: { a: '3' } };
    const e = await failure(
      c.client.replace(stale),
    );
    expect(e.message).toBe(
      `Kubernetes API refused to update ConfigMap 'versioned' in namespace 'errs': 409 Conflict — Operation cannot be fulfilled on configmaps "versioned": the object has been modified; please apply your changes to the latest version and try again; the object changed while it was being updated: read it again and retry`,
    );
    expect(e.isConflict).toBe(true);
  });

  it('409 Conflict of a server-side apply without force names the other manager and hints at force', async () => {
    await c.client.apply(configMap('errs', 'owned', { MODEL: 'iris' }), { fieldManager: 'someone-else' });
    const e = await failure(c.client.apply(configMap('errs', 'owned', { MODEL: 'wine' }), { force: false }));
    expect(e.message).toBe(
      `Kubernetes API refused to apply ConfigMap 'owned' in namespace 'errs': 409 Conflict — Apply failed with 1 conflict: conflict with "someone-else": .data.MODEL; another field manager owns these fields: apply with force to take them over`,
    );
    expect(e.causes).toEqual([{ reason: 'FieldManagerConflict', field: '.data.MODEL', message: 'conflict with "someone-else"' }]);
    // With force (the default) the apply takes the field over.
    expect((await c.client.apply<V1ConfigMap>(configMap('errs', 'owned', { MODEL: 'wine' }))).data).toEqual({ MODEL: 'wine' });
  });

  it('422 for an invalid name lists the field and the problem', async () => {
    const e = await failure(c.client.create(configMap('errs', 'Stage_1')));
    expect(e.statusCode).toBe(422);
    expect(e.causes).toEqual([expect.objectContaining({ field: 'metadata.name' })]);
    expect(e.message).toMatch(/^Kubernetes API refused to create ConfigMap 'Stage_1' in namespace 'errs': 422 Invalid — ConfigMap "Stage_1" is invalid: metadata\.name: Invalid value: "Stage_1": .+$/);
    expect(e.message).not.toContain('\n');
  });

  it('422 for a changed Job template (immutable) names the field', async () => {
    await c.client.apply(job('immutable', ['python', '-c', 'print(1)']));
    const e = await failure(c.client.apply(job('immutable', ['python', '-c', 'print(2)'])));
    expect(e).toMatchObject({ verb: 'apply', kind: 'Job', statusCode: 422, reason: 'Invalid', retryable: false });
    expect(e.causes.map((x) => x.field)).toContain('spec.template');
    expect(e.message).toMatch(/^Kubernetes API refused to apply Job 'immutable' in namespace 'errs': 422 Invalid — Job\.batch "immutable" is invalid: spec\.template: Invalid value: .*field is immutable/);
  });

  it('400 for an upper-case name in apply explains that names must be lower case', async () => {
    const e = await failure(c.client.apply(configMap('errs', 'Stage_1')));
    expect(e.message).toBe(
      `Kubernetes API refused to apply ConfigMap 'Stage_1' in namespace 'errs': 400 BadRequest — the name of the object (Stage_1) does not match the name on the URL (stage_1); object names must be lower case (DNS-1123), and client-node lower-cases request paths`,
    );
  });

  it('403 in a terminating namespace quotes the Status message', async () => {
    await c.client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    // A finalizer nobody removes keeps the namespace Terminating.
    await c.client.apply({ ...configMap('doomed', 'held'), metadata: { name: 'held', namespace: 'doomed', finalizers: ['example.com/hold'] } });
    await c.client.delete('Namespace', undefined, 'doomed');
    const e = await failure(c.client.create(configMap('doomed', 'late')));
    expect(e.message).toBe(
      `Kubernetes API refused to create ConfigMap 'late' in namespace 'doomed': 403 Forbidden — configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated; namespace 'doomed' is being deleted: wait for it to go or deploy to another namespace`,
    );
    expect(e.causes).toEqual([{ reason: 'NamespaceTerminating', field: 'metadata.namespace', message: 'namespace doomed is being terminated' }]);
  });

  it('never puts the bearer token into a message', async () => {
    const e = await failure(c.client.get('Secret', 'errs', 'missing'));
    expect(e.message).not.toContain(c.server.token);
    expect(JSON.stringify(e)).not.toContain(c.server.token);
  });
});

describe('KubeApiError for connection failures', () => {
  it('connection refused names the server URL and is retried', async () => {
    const port = await closedPort();
    const logger = new RecordingLogger();
    const client = KubeClient.create(loadKubeConfig({ content: kubeconfigFor(`http://127.0.0.1:${port}`) }).kc, logger, { retry: { maxAttempts: 2, baseMs: 5, capMs: 10 } });
    const e = await failure(client.get('Job', 'errs', 'stage-1'));
    expect(e.message).toBe(
      `Could not get Job 'stage-1' in namespace 'errs': connection refused by http://127.0.0.1:${port} — is the cluster reachable at this address (check the kubeconfig's cluster server URL)?`,
    );
    expect(e).toMatchObject({ errorCode: 'ECONNREFUSED', delivery: 'no', retryable: true, statusCode: undefined });
    // Discovery is the first request of a KubernetesObjectApi call: both attempts stopped there.
    expect(client.totalRequests()).toBe(2);
    expect(logger.messages('debug').filter((m) => m.startsWith('Retrying get (attempt 2/2)'))).toHaveLength(1);
  });

  describe.skipIf(!hasOpenssl())('TLS', () => {
    let dir: string;
    let server: HttpsServer;
    let url: string;
    let cert: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'kube-tls-'));
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=kube.example', '-addext', 'subjectAltName=DNS:kube.example', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
      cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
      server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (_req, res) => res.end('{}'));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    });

    function tlsClient(caData?: string): KubeClient {
      const kubeconfig = [
        'apiVersion: v1',
        'clusters:',
        '- name: tls',
        '  cluster:',
        `    server: ${url}`,
        ...(caData ? [`    certificate-authority-data: ${Buffer.from(caData).toString('base64')}`] : []),
        'users: [{ name: u, user: { token: secret-token-xyz } }]',
        'contexts: [{ name: tls, context: { cluster: tls, user: u } }]',
        'current-context: tls',
      ].join('\n');
      return KubeClient.create(loadKubeConfig({ content: kubeconfig }).kc, new RecordingLogger(), { retry: { maxAttempts: 3, baseMs: 5 } });
    }

    it('an untrusted (self-signed) certificate hints at certificate-authority-data and is not retried', async () => {
      const client = tlsClient();
      const e = await failure(client.get('Job', 'errs', 'stage-1'));
      expect(e.message).toBe(
        `Could not get Job 'stage-1' in namespace 'errs': TLS certificate of ${url} is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT) — set certificate-authority-data for the cluster in the kubeconfig`,
      );
      expect(e).toMatchObject({ retryable: false, delivery: 'no' });
      expect(client.totalRequests()).toBe(1);
    });

    it('a certificate for another host name hints at tls-server-name', async () => {
      const e = await failure(tlsClient(cert).get('Job', 'errs', 'stage-1'));
      expect(e.message).toBe(
        `Could not get Job 'stage-1' in namespace 'errs': TLS certificate of ${url} does not match its host name (ERR_TLS_CERT_ALTNAME_INVALID) — use the host name the certificate was issued for, or set tls-server-name in the kubeconfig`,
      );
    });
  });
});

describe('toKubeApiError for failures the sandbox cannot produce', () => {
  const ctx = { verb: 'create' as const, kind: 'Job', namespace: 'ml', name: 'stage-1', server: 'https://user:pw@k8s.example.com' };

  it('401 (client-node gives no body) says the credentials are invalid or expired', () => {
    const e = toKubeApiError(new ApiException(401, 'Unauthorized', undefined, { 'www-authenticate': 'Bearer' }), ctx);
    expect(e.message).toBe(
      `Kubernetes API refused to create Job 'stage-1' in namespace 'ml': 401 Unauthorized — the credentials in the kubeconfig are missing, invalid or expired; refresh the token or kubeconfig`,
    );
    expect(e.retryable).toBe(false);
  });

  it('403 RBAC quotes the permission and hints at a Role and RoleBinding', () => {
    const status = {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'Forbidden',
      code: 403,
      message: 'jobs.batch is forbidden: User "system:serviceaccount:ci:deployer" cannot create resource "jobs" in API group "batch" in the namespace "ml"',
      details: { group: 'batch', kind: 'jobs' },
    };
    const e = toKubeApiError(new ApiException(403, 'Forbidden', JSON.stringify(status), {}), ctx);
    expect(e.message).toBe(
      `Kubernetes API refused to create Job 'stage-1' in namespace 'ml': 403 Forbidden — jobs.batch is forbidden: User "system:serviceaccount:ci:deployer" cannot create resource "jobs" in API group "batch" in the namespace "ml"; the deploying identity lacks this permission: grant it with a Role and RoleBinding (RBAC)`,
    );
  });

  it("403 to a watch (client-node's Watch keeps no Status) says which verb on which resource was refused", () => {
    const refused = Object.assign(new Error('Forbidden'), { statusCode: 403 });
    const e = toKubeApiError(refused, { verb: 'watch', kind: 'ReplicaSet', namespace: 'ml', server: ctx.server });
    expect(e.message).toBe(
      `Kubernetes API refused to watch ReplicaSets in namespace 'ml': 403 Forbidden — the deploying identity cannot watch replicasets in namespace 'ml': grant it with a Role and RoleBinding (RBAC)`,
    );
    const logs = toKubeApiError(Object.assign(new Error('Forbidden'), { statusCode: 403 }), { verb: 'read logs of', kind: 'Pod', namespace: 'ml', name: 'p', server: ctx.server });
    expect(logs.message).toContain('the deploying identity cannot get pods/log in namespace \'ml\'');
  });

  it('401 with a Status body (KubernetesObjectApi reads it) keeps one dash', () => {
    const e = toKubeApiError(new ApiException(401, 'x', '{"kind":"Status","code":401,"reason":"Unauthorized","message":"Unauthorized"}', {}), ctx);
    expect(e.message).toBe(
      `Kubernetes API refused to create Job 'stage-1' in namespace 'ml': 401 Unauthorized — Unauthorized; the credentials in the kubeconfig are missing, invalid or expired; refresh the token or kubeconfig`,
    );
  });

  it('422 lists the causes its message does not mention', () => {
    const status = {
      kind: 'Status',
      code: 422,
      reason: 'Invalid',
      message: 'Job.batch "stage-1" is invalid',
      details: {
        causes: [
          { reason: 'FieldValueRequired', field: 'spec.template.spec.containers[0].image', message: 'Required value' },
          { reason: 'FieldValueNotSupported', field: 'spec.template.spec.restartPolicy', message: 'Unsupported value: "Always": supported values: "OnFailure", "Never"' },
        ],
      },
    };
    const e = toKubeApiError(new ApiException(422, 'x', JSON.stringify(status), {}), ctx);
    expect(e.message).toBe(
      `Kubernetes API refused to create Job 'stage-1' in namespace 'ml': 422 Invalid — Job.batch "stage-1" is invalid; invalid: spec.template.spec.containers[0].image: Required value; spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"`,
    );
    expect(e.causes.map((x) => x.field)).toEqual(['spec.template.spec.containers[0].image', 'spec.template.spec.restartPolicy']);
  });

  it('429 keeps Retry-After; 503 is retryable', () => {
    const e = toKubeApiError(new ApiException(429, 'x', '{"kind":"Status","code":429,"reason":"TooManyRequests","message":"slow down"}', { 'retry-after': '3' }), ctx);
    expect(e).toMatchObject({ statusCode: 429, retryAfterSeconds: 3, retryable: true });
    expect(e.message).toBe(`Kubernetes API refused to create Job 'stage-1' in namespace 'ml': 429 TooManyRequests — slow down; the API server is throttling requests (retry after 3 s)`);
    expect(toKubeApiError(new ApiException(503, 'x', 'upstream connect error', {}), ctx)).toMatchObject({ retryable: true, reason: 'ServiceUnavailable' });
  });

  it('connection resets and DNS failures: server URL without user info, reset retryable but maybe delivered', () => {
    const reset = toKubeApiError(Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) }), ctx);
    expect(reset.message).toBe(`Could not create Job 'stage-1' in namespace 'ml': the connection to https://k8s.example.com was reset (UND_ERR_SOCKET) — the API server or a proxy closed it`);
    expect(reset).toMatchObject({ retryable: true, delivery: 'maybe' });
    const dns = toKubeApiError(Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('getaddrinfo ENOTFOUND k8s.example.com'), { code: 'ENOTFOUND' }) }), ctx);
    expect(dns.message).toBe(`Could not create Job 'stage-1' in namespace 'ml': the host name of https://k8s.example.com does not resolve (ENOTFOUND) — check the kubeconfig's cluster server URL and the network`);
    expect(dns).toMatchObject({ retryable: false, delivery: 'no' });
  });

  it('a watch failure (statusCode, no body) and a watch ERROR event (Status object)', () => {
    const w = toKubeApiError(Object.assign(new Error('Service Unavailable'), { statusCode: 503 }), { verb: 'watch', kind: 'Job', namespace: 'ml' });
    expect(w.message).toBe(`Kubernetes API refused to watch Jobs in namespace 'ml': 503 ServiceUnavailable — the API server failed to answer, which is usually temporary: try again`);
    const ev = toKubeApiError({ kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 5 (10)' }, { verb: 'watch', kind: 'Job', namespace: 'ml' });
    expect(ev).toMatchObject({ statusCode: 410, isExpired: true });
  });
});

async function closedPort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
