/**
 * Our node joined to the upstream control plane (test/upstream, kube-apiserver + controller-manager + scheduler):
 * a Deployment's pods run on it through the upstream API server with what its admission adds (the
 * kube-api-access projected volume: a TokenRequest token, kube-root-ca.crt, the namespace), `kubectl logs` reaches
 * our kubelet API, and the tutorial's `kubectl proxy` + services/<svc>/proxy path reaches a pod.
 *
 * In the vitest project `upstream` only (vitest.config.ts), which builds the control plane first.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUpstreamCluster, type UpstreamCluster } from '../support/upstream-cluster.js';

const run = promisify(execFile);

const SERVER = [
  'import http.server, os, socketserver',
  'sa = "/var/run/secrets/kubernetes.io/serviceaccount"',
  'class H(http.server.BaseHTTPRequestHandler):',
  '    def do_GET(self):',
  '        files = sorted(os.listdir(sa))',
  '        token = open(sa + "/token").read()',
  '        body = "%s %s ns=%s ca=%s jwt=%s" % (os.environ["HOSTNAME"], ",".join(files), open(sa + "/namespace").read(), "BEGIN CERTIFICATE" in open(sa + "/ca.crt").read(), token.count(".") == 2)',
  '        self.send_response(200); self.end_headers(); self.wfile.write(body.encode())',
  '    def log_message(self, *a): pass',
  'print("serving on 5000", flush=True)',
  'socketserver.TCPServer(("", 5000), H).serve_forever()',
].join('\n');

const MANIFEST = {
  apiVersion: 'v1',
  kind: 'List',
  items: [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            terminationGracePeriodSeconds: 2,
            containers: [{ name: 'web', image: 'python:3.11', command: ['python3', '-c', SERVER], ports: [{ containerPort: 5000 }], readinessProbe: { httpGet: { path: '/', port: 5000 } } }],
          },
        },
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 5000, targetPort: 5000 }] } },
  ],
};

describe('our node on the upstream control plane', () => {
  let dir: string;
  let cluster: UpstreamCluster;
  let proxy: ChildProcess | undefined;
  const kubectl = async (...args: string[]) => (await run('kubectl', ['--kubeconfig', cluster.kubeconfigPath, ...args], { timeout: 120_000 })).stdout;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bodywork-upstream-test-'));
    cluster = await startUpstreamCluster({ kubeconfigPath: path.join(dir, 'admin.kubeconfig'), dataDir: path.join(dir, 'data'), node: { kubelet: { maxGracePeriodMs: 2000 }, warn: () => {} } });
  }, 600_000);
  afterAll(async () => {
    proxy?.kill('SIGTERM');
    await cluster?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('registers a Ready Node with a Lease', async () => {
    const node = JSON.parse(await kubectl('get', 'node', 'sandbox', '-o', 'json'));
    expect(node.status.conditions.find((c: any) => c.type === 'Ready').status).toBe('True');
    expect(node.status.daemonEndpoints.kubeletEndpoint.Port).toBe(cluster.node.server!.port);
    const lease = JSON.parse(await kubectl('get', 'lease', '-n', 'kube-node-lease', 'sandbox', '-o', 'json'));
    expect(lease.spec).toMatchObject({ holderIdentity: 'sandbox', leaseDurationSeconds: 40 });
    expect(cluster.version).toMatch(/^v1\.\d+\.\d+/);
  });

  it('runs a Deployment on our node; kubectl logs and services/<svc>/proxy reach its pods', async () => {
    const file = path.join(dir, 'web.json');
    fs.writeFileSync(file, JSON.stringify(MANIFEST));
    await kubectl('apply', '-f', file);
    await kubectl('rollout', 'status', 'deployment/web', '--timeout=120s');
    const pods = JSON.parse(await kubectl('get', 'pods', '-l', 'app=web', '-o', 'json')).items;
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(p.spec.nodeName).toBe('sandbox');
      // What the upstream admission added: the projected ServiceAccount volume and the default tolerations.
      expect(p.spec.volumes.some((v: any) => v.name.startsWith('kube-api-access-'))).toBe(true);
      expect(p.spec.tolerations.map((t: any) => t.key)).toContain('node.kubernetes.io/not-ready');
      expect(await kubectl('logs', p.metadata.name)).toBe('serving on 5000\n');
    }

    proxy = spawn('kubectl', ['--kubeconfig', cluster.kubeconfigPath, 'proxy', '--port=0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve, reject) => {
      readline.createInterface({ input: proxy!.stdout! }).on('line', (l) => {
        const m = /127\.0\.0\.1:(\d+)/.exec(l);
        if (m) resolve(Number(m[1]));
      });
      proxy!.once('exit', (code) => reject(new Error(`kubectl proxy exited (${code})`)));
    });
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/namespaces/default/services/web/proxy/`);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toMatch(/^web-\S+ ca\.crt,namespace,token ns=default ca=True jwt=True$/);
  }, 300_000);
});
