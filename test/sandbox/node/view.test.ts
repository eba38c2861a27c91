/**
 * The node's API side against the embedded API server over HTTPS: the list+watch caches resume ended watches and
 * re-list on 410; the Node and its Lease are registered and renewed on an injected clock; the kubelet API
 * authenticates callers by client certificate.
 */
import https from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { createClusterStore } from '../../../src/sandbox/apiserver/registry.js';
import { LIFECYCLE_CONTROLLERS, startControllers } from '../../../src/sandbox/controllers/index.js';
import { startApiServer, type ApiServer, type FaultOptions } from '../../../src/sandbox/apiserver/server.js';
import { FakeClock } from '../../support/fake-clock.js';
import { certKubeconfig, nodeCredentials, type NodeCredentials } from '../../../src/sandbox/node/credentials.js';
import { NodeHttp } from '../../../src/sandbox/node/http.js';
import { startKubeletServer } from '../../../src/sandbox/node/kubelet-server.js';
import { NodeStatusReporter } from '../../../src/sandbox/node/node-status.js';
import { NodeView } from '../../../src/sandbox/node/view.js';
import { createCertificateAuthority, issueCertificate, type CertificateAuthority } from '../../../src/sandbox/pki.js';
import type { ClusterStore, KubeObject } from '../../../src/sandbox/types.js';
import { Readable } from 'node:stream';

interface Env {
  store: ClusterStore;
  server: ApiServer;
  ca: CertificateAuthority;
  creds: NodeCredentials;
  http: NodeHttp;
}
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function env(faults?: FaultOptions): Promise<Env> {
  const store = createClusterStore();
  const controllers = startControllers(store, { enabled: [...LIFECYCLE_CONTROLLERS] });
  cleanups.push(() => controllers.stop());
  const ca = await createCertificateAuthority('test-ca');
  const creds = await nodeCredentials(ca, { nodeName: 'n1', hostIP: '127.0.0.1' });
  const server = await startApiServer({ store, ca, faults });
  cleanups.push(() => server.close());
  const http = new NodeHttp(certKubeconfig(server.url, ca.cert, creds.node, 'system:node:n1'));
  return { store, server, ca, creds, http };
}

async function until<T>(f: () => T | undefined | false, what: string, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const svc = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ port: 80 }] } });

describe('node view', () => {
  it('keeps its caches through watches the server ends, resuming from the last resourceVersion', async () => {
    const e = await env({ watchCutAfterSeconds: 1 });
    const view = new NodeView(e.http, { nodeName: 'n1' });
    cleanups.push(() => view.stop());
    await view.start();
    e.store.create('services', 'default', svc('before'));
    await until(() => view.find('services', 'default', 'before'), 'the first Service');
    const lists = e.http.client.requestCounts().list;
    // The server cuts every watch after 1 s: wait until the view has resumed one, then change things.
    await until(() => (e.http.client.requestCounts().watch ?? 0) >= 4, 'a resumed watch');
    e.store.create('services', 'default', svc('after'));
    e.store.delete('services', 'default', 'before');
    await until(() => view.find('services', 'default', 'after') && !view.find('services', 'default', 'before'), 'changes after the resume');
    // Resumed, not re-listed.
    expect(e.http.client.requestCounts().list).toBe(lists);
  });

  it('re-lists on 410 and tells listeners what changed meanwhile', async () => {
    const e = await env({ watchCutAfterSeconds: 1, expireOnResume: true });
    const view = new NodeView(e.http, { nodeName: 'n1' });
    cleanups.push(() => view.stop());
    await view.start();
    e.store.create('services', 'default', svc('gone-soon'));
    await until(() => view.find('services', 'default', 'gone-soon'), 'the Service');
    const seen: string[] = [];
    view.subscribe((ev) => ev.key === 'services' && seen.push(`${ev.type} ${ev.object.metadata.name}`));
    const lists = e.http.client.requestCounts().list ?? 0;
    e.server.watchHub.compact();
    e.store.delete('services', 'default', 'gone-soon');
    e.store.create('services', 'default', svc('new'));
    await until(() => (e.http.client.requestCounts().list ?? 0) > lists, 'a re-list');
    await until(() => view.find('services', 'default', 'new') && !view.find('services', 'default', 'gone-soon'), 'the re-listed state');
    expect(seen).toContain('DELETED gone-soon');
    expect(seen).toContain('ADDED new');
  });

  it('sees only the pods bound to its node, and a referenced Secret through a per-object watch', async () => {
    const e = await env();
    const view = new NodeView(e.http, { nodeName: 'n1' });
    cleanups.push(() => view.stop());
    await view.start();
    const pod = (name: string, nodeName: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default' },
      spec: { nodeName, containers: [{ name: 'c', image: 'x', env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's1', key: 'a' } } }] }] },
    });
    e.store.create('pods', 'default', pod('mine', 'n1'));
    e.store.create('pods', 'default', pod('other', 'n2'));
    e.store.create('secrets', 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's1', namespace: 'default' }, data: { a: 'eA==' } });
    e.store.create('secrets', 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's2', namespace: 'default' }, data: {} });
    const mine = await until(() => view.find('pods', 'default', 'mine'), 'the bound pod');
    expect(view.find('pods', 'default', 'other')).toBeUndefined();
    await view.reference(mine);
    expect(view.find('secrets', 'default', 's1')?.data).toEqual({ a: 'eA==' });
    expect(view.find('secrets', 'default', 's2')).toBeUndefined();
    view.release(mine.metadata.uid!);
    await until(() => !view.find('secrets', 'default', 's1'), 'the released Secret to leave the cache');
  });
});

describe('node registration', () => {
  it('registers the Node Ready with its daemon endpoint and renews its Lease every 10 s of the clock', async () => {
    const e = await env();
    const clock = new FakeClock();
    const reporter = new NodeStatusReporter(e.http, { nodeName: 'n1', hostIP: '127.0.0.1', kubeletPort: 10250, capacity: { cpu: '3', memory: '1Gi' }, clock });
    cleanups.push(() => reporter.stop());
    await reporter.start();
    const node = e.store.get('nodes', undefined, 'n1');
    expect(node.status.conditions.find((c: any) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    expect(node.status.addresses).toEqual([
      { type: 'InternalIP', address: '127.0.0.1' },
      { type: 'Hostname', address: 'n1' },
    ]);
    expect(node.status.daemonEndpoints).toEqual({ kubeletEndpoint: { Port: 10250 } });
    expect(node.status.allocatable).toMatchObject({ cpu: '3', memory: '1Gi' });
    const lease = e.store.get('coordination.k8s.io/leases', 'kube-node-lease', 'n1');
    expect(lease.spec).toMatchObject({ holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: '2030-01-01T00:00:00.000000Z' });
    expect(lease.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: node.metadata.uid }]);

    clock.advance(9_999);
    expect(reporter.renewals).toBe(1);
    clock.advance(1);
    await until(() => reporter.renewals === 2, 'the second renewal');
    expect(e.store.get('coordination.k8s.io/leases', 'kube-node-lease', 'n1').spec.renewTime).toBe('2030-01-01T00:00:10.000000Z');
    await until(() => clock.pending === 2, 'the next renewal to be scheduled');
    clock.advance(10_000);
    await until(() => reporter.renewals === 3, 'the third renewal');

    // A second start (a restarted kubelet) adopts the Node and the Lease.
    const again = new NodeStatusReporter(e.http, { nodeName: 'n1', hostIP: '127.0.0.1', kubeletPort: 10251, clock });
    cleanups.push(() => again.stop());
    await again.start();
    expect(e.store.get('nodes', undefined, 'n1').status.daemonEndpoints.kubeletEndpoint.Port).toBe(10251);
    expect(e.store.list('coordination.k8s.io/leases', 'kube-node-lease').items).toHaveLength(1);
  });
});

describe('kubelet API', () => {
  it('serves containerLogs only to client certificates its CA signed (401), and to allowed users (403)', async () => {
    const ca = await createCertificateAuthority('kubelet-ca');
    const other = await createCertificateAuthority('other-ca');
    const serving = await issueCertificate(ca, { commonName: 'n1', dnsNames: ['n1'], ipAddresses: ['127.0.0.1'], usage: 'server' });
    const apiClient = await issueCertificate(ca, { commonName: 'kube-apiserver-kubelet-client', dnsNames: [], ipAddresses: [], usage: 'client' });
    const someone = await issueCertificate(ca, { commonName: 'someone', dnsNames: [], ipAddresses: [], usage: 'client' });
    const stranger = await issueCertificate(other, { commonName: 'kube-apiserver-kubelet-client', dnsNames: [], ipAddresses: [], usage: 'client' });
    const asked: unknown[] = [];
    const server = await startKubeletServer({
      ...serving,
      clientCA: ca.cert,
      allowedUsers: ['kube-apiserver-kubelet-client'],
      logs: {
        open(ns, pod, o) {
          asked.push({ ns, pod, ...o });
          return Readable.from(['one\n', 'two\n']);
        },
      },
    });
    cleanups.push(() => server.close());
    const get = (path: string, client?: { cert: string; key: string }) =>
      new Promise<{ code: number; body: string }>((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port: server.port, path, ca: ca.cert, ...(client ?? {}) }, (res) => {
            let body = '';
            res.on('data', (c) => (body += c));
            res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
          })
          .on('error', reject);
      });
    const path = '/containerLogs/default/p/c?tailLines=2&follow=true&timestamps=1';
    expect((await get(path)).code).toBe(401);
    expect((await get(path, stranger)).code).toBe(401);
    expect((await get(path, someone)).code).toBe(403);
    expect(await get(path, apiClient)).toEqual({ code: 200, body: 'one\ntwo\n' });
    expect(asked).toEqual([{ ns: 'default', pod: 'p', container: 'c', tailLines: 2, follow: true, previous: false, timestamps: true }]);
    expect((await get('/pods', apiClient)).code).toBe(404);
  });
});
