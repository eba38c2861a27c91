/** Test harness: a fresh store + API server per test file, a client-node KubeConfig and a kubectl runner. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { createClusterStore, startApiServer, type ApiServer, type ApiServerOptions, type SandboxStore } from '../../../src/sandbox/apiserver/index.js';
import { LIFECYCLE_CONTROLLERS, startControllers, type Controllers } from '../../../src/sandbox/controllers/index.js';
import { sandboxKubeconfig, writeKubeconfig, type SandboxEndpoint } from '../../../src/sandbox/kubeconfig.js';
import { eventually } from '../../support/eventually.js';

export interface Harness {
  store: SandboxStore;
  /** The controllers the object lifecycle relies on (GC, namespaces, ServiceAccounts, root CA); no workload controllers. */
  controllers: Controllers;
  server: ApiServer;
  url: string;
  kc: KubeConfig;
  kubeconfigPath: string;
  /** fetch() for the server's URLs: trusts its CA and sends its token (unless the request has an authorization). */
  fetch: SandboxFetch;
  kubectl(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

export async function startHarness(opts: Partial<Omit<ApiServerOptions, 'store'>> = {}): Promise<Harness> {
  const store = createClusterStore();
  const controllers = startControllers(store, { enabled: [...LIFECYCLE_CONTROLLERS] });
  const server = await startApiServer({ store, host: '127.0.0.1', port: 0, ...opts });
  const kc = new KubeConfig();
  const kubeconfig = sandboxKubeconfig(server);
  kc.loadFromString(kubeconfig);
  const dir = mkdtempSync(join(tmpdir(), 'apiserver-test-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfigPath, kubeconfig);
  const kubectl = (args: string[], stdin?: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        '/usr/bin/kubectl',
        ['--kubeconfig', kubeconfigPath, '--cache-dir', join(dir, 'cache'), ...args],
        { timeout: 30_000 },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      if (stdin !== undefined) child.stdin!.end(stdin);
    });
  return {
    store,
    controllers,
    server,
    url: server.url,
    kc,
    kubeconfigPath,
    fetch: sandboxFetch(server),
    kubectl,
    close: async () => {
      await controllers.stop();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type SandboxFetch = (url: string, init?: RequestInit) => Promise<Response>;

/**
 * A fetch() for tests that reach a sandbox API server directly: its URLs go over https with the sandbox CA trusted
 * and its bearer token sent (Node's fetch takes no CA option); any other URL goes to the global fetch.
 */
export function sandboxFetch(ep: SandboxEndpoint): SandboxFetch {
  return (url, init = {}) => {
    if (!url.startsWith(ep.url)) return fetch(url, init);
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${ep.token}`);
    const body = init.body;
    if (body != null && typeof body !== 'string' && !(body instanceof Uint8Array)) throw new Error('sandboxFetch: string or bytes bodies only');
    // Node frames DELETE bodies only with an explicit length (it chunks POST/PUT/PATCH by default).
    if (body != null) headers.set('content-length', String(Buffer.byteLength(body)));
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method: init.method ?? 'GET', headers: Object.fromEntries(headers), ca: ep.caCert, signal: init.signal ?? undefined }, (res) => {
        const out = new Headers();
        for (const [k, v] of Object.entries(res.headers)) for (const x of [v ?? []].flat()) out.append(k, x);
        const empty = res.statusCode === 204 || res.statusCode === 304 || init.method === 'HEAD';
        if (empty) res.resume();
        resolve(new Response(empty ? null : (Readable.toWeb(res) as ReadableStream), { status: res.statusCode, statusText: res.statusMessage, headers: out }));
      });
      req.on('error', reject);
      req.end(body ?? undefined);
    });
  };
}

/** Parses the Status body of a client-node ApiException. */
export function statusOf(e: unknown): any {
  const body = (e as { body?: unknown }).body;
  if (typeof body !== 'string') throw e;
  return JSON.parse(body);
}

export async function expectStatus(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return statusOf(e);
  }
  throw new Error('expected the call to fail');
}

/** Polls until `f` returns a truthy value (test/support/eventually.ts). */
export function until<T>(f: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  return eventually(f, 'the condition', timeoutMs, 20);
}

export const deployment = (name: string, image = 'nginx:1.27', labels: Record<string, string> = { app: name }) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, labels },
  spec: {
    selector: { matchLabels: labels },
    template: { metadata: { labels }, spec: { containers: [{ name: 'web', image, ports: [{ containerPort: 80 }] }] } },
  },
});

export const job = (name: string, restartPolicy = 'Never') => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name },
  spec: { template: { spec: { restartPolicy, containers: [{ name: 'main', image: 'python:3.12', command: ['python', '-c', 'print(1)'] }] } } },
});

/** Test convenience: Node's fetch types JSON bodies as `unknown`; `res.json().then(anyJson)` reads them untyped. */
export const anyJson = (x: unknown): any => x;

declare global {
  // Node's fetch types JSON bodies as `unknown`. This augmentation is global to the type-check (other sandbox tests,
  // e.g. test/sandbox/protobuf, read `res.json()` untyped through it); this folder's tests use `anyJson` instead.
  interface Response {
    json(): Promise<any>;
  }
}
