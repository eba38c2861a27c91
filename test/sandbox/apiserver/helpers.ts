/** Test harness: a fresh store + API server per test file, a client-node KubeConfig and a kubectl runner. */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { createClusterStore, startApiServer, type ApiServer, type ApiServerOptions, type SandboxStore } from '../../../src/sandbox/apiserver/index.js';

export interface Harness {
  store: SandboxStore;
  server: ApiServer;
  url: string;
  kc: KubeConfig;
  kubeconfigPath: string;
  kubectl(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

export async function startHarness(opts: Partial<Omit<ApiServerOptions, 'store'>> = {}): Promise<Harness> {
  const store = createClusterStore();
  const server = await startApiServer({ store, host: '127.0.0.1', port: 0, ...opts });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'sandbox', server: server.url, skipTLSVerify: true }],
    users: [{ name: 'sandbox', token: 'test-token' }],
    contexts: [{ name: 'sandbox', cluster: 'sandbox', user: 'sandbox', namespace: 'default' }],
    currentContext: 'sandbox',
  });
  const dir = mkdtempSync(join(tmpdir(), 'apiserver-test-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfigPath,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'sandbox', cluster: { server: server.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'sandbox', user: { token: 'test-token' } }],
      contexts: [{ name: 'sandbox', context: { cluster: 'sandbox', user: 'sandbox', namespace: 'default' } }],
      'current-context': 'sandbox',
    }),
  );
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
  return { store, server, url: server.url, kc, kubeconfigPath, kubectl, close: () => server.close() };
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

export async function until<T>(f: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
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
