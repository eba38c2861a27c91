/** The API server's transport and authentication: HTTPS only, the sandbox token or a CA-signed client cert, Host check. */
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { createCertificateAuthority, issueCertificate, type CertificateAuthority } from '../../../src/sandbox/pki.js';
import { sandboxKubeconfig } from '../../../src/sandbox/kubeconfig.js';
import { startHarness, type Harness } from './helpers.js';

const UNAUTHORIZED = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };
const SECRET_VALUE = 'hunter2-do-not-leak';
const SECRETS = '/api/v1/namespaces/default/secrets';

let h: Harness;
let ca: CertificateAuthority;
let port: number;

interface RawOptions {
  headers?: Record<string, string>;
  cert?: string;
  key?: string;
  /** Trust this CA instead of the server's. */
  ca?: string;
}

/** One HTTPS GET with exactly the given headers (no token unless given). */
function raw(path: string, o: RawOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // servername fixed: Node would otherwise verify the certificate against the Host header under test.
    const req = https.request({ host: '127.0.0.1', port, path, servername: 'localhost', headers: o.headers ?? {}, ca: o.ca ?? h.server.caCert, cert: o.cert, key: o.key, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  ca = await createCertificateAuthority('test-sandbox-ca');
  h = await startHarness({ ca });
  port = Number(new URL(h.url).port);
  h.store.create('secrets', 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: SECRET_VALUE } });
});
afterAll(() => h.close());

describe('authentication', () => {
  it('serves https with a per-server random token', () => {
    expect(h.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(Buffer.from(h.server.token, 'base64url')).toHaveLength(32);
  });

  it('answers a request without credentials 401 with the upstream Status body, on every path', async () => {
    for (const path of [SECRETS, '/api/v1', '/version', '/healthz', '/nonexistent']) {
      const r = await raw(path);
      expect(r.status, path).toBe(401);
      expect(JSON.parse(r.body), path).toEqual(UNAUTHORIZED);
    }
  });

  it('refuses wrong tokens: another value, a prefix, the token with a suffix, a Basic header', async () => {
    for (const authorization of ['Bearer sandbox', `Bearer ${h.server.token.slice(0, -1)}`, `Bearer ${h.server.token}x`, `Basic ${Buffer.from(`x:${h.server.token}`).toString('base64')}`]) {
      const r = await raw(SECRETS, { headers: { authorization } });
      expect(r.status, authorization).toBe(401);
      expect(r.body).not.toContain(Buffer.from(SECRET_VALUE).toString('base64'));
      expect(JSON.parse(r.body)).toEqual(UNAUTHORIZED);
    }
  });

  it('accepts the token (the scheme in any case)', async () => {
    const r = await raw(SECRETS, { headers: bearer(h.server.token) });
    expect(r.status).toBe(200);
    expect(r.body).toContain(Buffer.from(SECRET_VALUE).toString('base64'));
    expect((await raw('/version', { headers: { authorization: `bearer ${h.server.token}` } })).status).toBe(200);
  });

  it('accepts a client certificate signed by the sandbox CA, and no other', async () => {
    const client = await issueCertificate(ca, { commonName: 'system:node:sandbox', organization: 'system:nodes', dnsNames: [], ipAddresses: [], usage: 'client' });
    expect((await raw(SECRETS, client)).status).toBe(200);
    const stranger = await issueCertificate(await createCertificateAuthority('other-ca'), { commonName: 'system:node:sandbox', dnsNames: [], ipAddresses: [], usage: 'client' });
    const r = await raw(SECRETS, stranger);
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body)).toEqual(UNAUTHORIZED);
  });

  it('speaks no plain HTTP', async () => {
    const got = await new Promise<string>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: SECRETS, headers: bearer(h.server.token), agent: false }, (res) => resolve(`status ${res.statusCode}`));
      req.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    });
    expect(got).toMatch(/^error /);
  });

  it('presents a certificate for 127.0.0.1, localhost and ::1 that only the sandbox CA vouches for', async () => {
    expect((await raw('/version', { headers: { ...bearer(h.server.token), host: `localhost:${port}` } })).status).toBe(200);
    const verify = (servername: string) =>
      new Promise<string>((resolve) => {
        const req = https.get({ host: '127.0.0.1', port, path: '/version', servername, ca: h.server.caCert, headers: bearer(h.server.token), agent: false }, (res) => resolve(String(res.statusCode)));
        req.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? e.message));
      });
    expect(await verify('localhost')).toBe('200');
    expect(await verify('sandbox.example.com')).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    const untrusted = await raw('/version', { ca: (await createCertificateAuthority('x')).cert }).catch((e: NodeJS.ErrnoException) => e.code);
    expect(untrusted).toMatch(/UNABLE_TO_VERIFY|SELF_SIGNED|CERT/);
  });

  it('client-node with a kubeconfig holding the wrong token gets 401', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(sandboxKubeconfig({ ...h.server, token: 'not-the-token' }));
    const err = await kc.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: 'default' }).catch((e: { code?: number }) => e);
    expect((err as { code?: number }).code).toBe(401);
  });

  it('kubectl: works with the kubeconfig; Unauthorized with a wrong token', async () => {
    const ok = await h.kubectl(['get', 'secrets', '-o', 'name']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('secret/db');
    const bad = await h.kubectl(['--token', 'wrong', 'get', 'secrets']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('Unauthorized');
  });
});

describe('Host check (DNS rebinding)', () => {
  it('answers 127.0.0.1, localhost and [::1] with its port', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      expect((await raw('/version', { headers: { ...bearer(h.server.token), host } })).status, host).toBe(200);
    }
  });

  it('refuses any other Host with 403, before looking at credentials', async () => {
    for (const host of [`attacker.example:${port}`, `127.0.0.1.nip.io:${port}`, '127.0.0.1', `127.0.0.1:${port + 1}`, `localhost:${port}@evil`]) {
      const r = await raw(SECRETS, { headers: { ...bearer(h.server.token), host } });
      expect(r.status, host).toBe(403);
      expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 });
      expect(r.body).not.toContain(Buffer.from(SECRET_VALUE).toString('base64'));
    }
  });

  it('refuses a request without Host (HTTP/1.0; Node answers HTTP/1.1 without one 400 itself)', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: h.server.caCert }, () => socket.end(`GET ${SECRETS} HTTP/1.0\r\nAuthorization: Bearer ${h.server.token}\r\n\r\n`));
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => (data += c));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(reply.split('\r\n')[0]).toBe('HTTP/1.1 403 Forbidden');
    expect(reply).not.toContain(Buffer.from(SECRET_VALUE).toString('base64'));
  });
});
