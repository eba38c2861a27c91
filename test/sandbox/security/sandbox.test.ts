/**
 * The sandbox hands nothing to other local users: its kubeconfig is its owner's only, its API server refuses anyone
 * without the token (curl as `nobody`), and, started as root, its pods do not run as root (both network modes).
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startSandbox, type Sandbox } from '../../../src/sandbox/index.js';
import type { KubeObject } from '../../../src/sandbox/types.js';
import { until } from '../network/helpers.js';

const root = process.getuid?.() === 0;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-security-'));
const kubeconfigPath = path.join(dir, 'new', 'sub', 'kubeconfig');
let sb: Sandbox;
let host: Sandbox;

function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile('kubectl', ['--kubeconfig', kubeconfigPath, '--cache-dir', path.join(dir, 'cache'), ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

/** Runs a command as `nobody` (uid/gid 65534): another local user. */
function asNobody(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { uid: 65534, gid: 65534, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

function pod(name: string, script: string, extra: Record<string, unknown> = {}, container: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      volumes: [{ name: 'scratch', emptyDir: {} }],
      containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', script], volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }], ...container }],
      ...extra,
    },
  };
}

/** Creates the pod, waits for it to end, returns its log (kubectl logs through the kubeconfig). */
async function runPod(s: Sandbox, p: KubeObject): Promise<string> {
  s.store.create('pods', 'default', p);
  await until(() => ['Succeeded', 'Failed'].includes(s.store.find('pods', 'default', p.metadata.name!)?.status?.phase), `${p.metadata.name} finished`, 60_000);
  const r = await new Promise<string>((resolve) => {
    const kc = path.join(dir, `${p.metadata.name}.kubeconfig`);
    fs.writeFileSync(kc, s.kubeconfig, { mode: 0o600 });
    execFile('kubectl', ['--kubeconfig', kc, 'logs', p.metadata.name!], { timeout: 60_000 }, (err, stdout, stderr) => resolve(err ? `kubectl failed: ${stderr}` : stdout));
  });
  return r.trim();
}

beforeAll(async () => {
  sb = await startSandbox({ kubeconfigPath, controllers: { jobBackoffBaseMs: 100 }, warn: () => {} });
  host = await startSandbox({ isolation: 'none', python: false, kubelet: { runAs: { allowRootPods: true } }, warn: () => {} });
}, 120_000);
afterAll(async () => {
  await sb?.stop();
  await host?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the kubeconfig', () => {
  it('is 0600 in directories it created 0700, with the CA and the token and no insecure-skip-tls-verify', () => {
    expect(fs.statSync(kubeconfigPath).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(kubeconfigPath)).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(dir, 'new')).mode & 0o777).toBe(0o700);
    const text = fs.readFileSync(kubeconfigPath, 'utf8');
    expect(text).not.toContain('insecure-skip-tls-verify');
    const kc = parse(text);
    expect(kc.clusters[0].cluster.server).toBe(sb.url);
    expect(Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64').toString()).toBe(sb.caCert);
    expect(kc.users[0].user.token).toBe(sb.token);
    expect(sb.token).not.toBe(host.token);
  });

  it('kubectl works with it: get pods, logs', async () => {
    const out = await runPod(sb, pod('hello', 'echo hello from a pod'));
    expect(out).toBe('hello from a pod');
    const r = await kubectl('get', 'pods', '-o', 'name');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('pod/hello');
  });
});

describe.skipIf(!root)('another local user (nobody)', () => {
  it('cannot read the kubeconfig', async () => {
    const r = await asNobody('cat', [kubeconfigPath]);
    expect(r.code).not.toBe(0);
    expect(r.out).not.toContain(sb.token);
  });

  it('gets 401 from the API server with curl, with no token or a guessed one', async () => {
    sb.store.create('secrets', 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: 'not-for-nobody' } });
    for (const extra of [[], ['-H', 'Authorization: Bearer sandbox']]) {
      const r = await asNobody('curl', ['-sk', '-w', '\n%{http_code}', ...extra, `${sb.url}/api/v1/namespaces/default/secrets`]);
      expect(r.out.trim().split('\n').pop()).toBe('401');
      expect(r.out).not.toContain(Buffer.from('not-for-nobody').toString('base64'));
    }
  });
});

describe.skipIf(!root)('pods of a sandbox started as root', () => {
  for (const mode of ['sandbox', 'host'] as const) {
    const s = (): Sandbox => (mode === 'sandbox' ? sb : host);

    it(`run as 65534:65534 by default, HOME /, writing to their emptyDir only (${mode === 'sandbox' ? 'default isolation' : 'host network'})`, async () => {
      const out = await runPod(s(), pod(`whoami-${mode}`, 'echo "$(id -u) $(id -g) $(id -G) $HOME"; echo ok > /scratch/f && cat /scratch/f; touch /etc/pwned 2>/dev/null && echo wrote-etc; true'));
      expect(out).toBe('65534 65534 65534 /\nok');
      expect(fs.existsSync('/etc/pwned')).toBe(false);
    });

    it(`log stdout and stderr in the order written (${mode})`, async () => {
      const out = await runPod(s(), pod(`order-${mode}`, 'i=1; while [ $i -le 200 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done'));
      expect(out).toBe(Array.from({ length: 200 }, (_, k) => `out ${k + 1}\nerr ${k + 1}`).join('\n'));
    });

    it(`honour runAsUser/runAsGroup, the container's over the pod's (${mode})`, async () => {
      const p = pod(`runas-${mode}`, 'echo "$(id -u) $(id -g)"', { securityContext: { runAsUser: 1234, runAsGroup: 2345 } }, { securityContext: { runAsUser: 4321 } });
      expect(await runPod(s(), p)).toBe('4321 2345');
    });

    it(`exec probes run as the container's user (${mode})`, async () => {
      const name = `probe-${mode}`;
      const p = pod(name, 'sleep 30', {}, { readinessProbe: { exec: { command: ['sh', '-c', 'test "$(id -u)" = 65534'] }, periodSeconds: 1 } });
      s().store.create('pods', 'default', p);
      await until(() => s().store.find('pods', 'default', name)?.status?.containerStatuses?.[0]?.ready === true, `${name} ready`, 60_000);
      s().store.delete('pods', 'default', name, { gracePeriodSeconds: 0 });
    });
  }

  it('refuse runAsUser 0 unless the sandbox allows root pods', async () => {
    const p = pod('root-refused', 'id -u', { securityContext: { runAsUser: 0 } });
    sb.store.create('pods', 'default', p);
    // ContainerCreating comes first (as upstream's kubelet reports it): wait past it for the reason the start failed.
    const waiting = await until(() => {
      const w = sb.store.find('pods', 'default', 'root-refused')?.status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason !== undefined && w.reason !== 'ContainerCreating' ? w : undefined;
    }, 'a waiting reason other than ContainerCreating', 60_000);
    expect(waiting.reason).toBe('CreateContainerConfigError');
    expect(waiting.message).toContain('allowRootPods');
    expect(await runPod(host, pod('root-allowed', 'id -u', { securityContext: { runAsUser: 0 } }))).toBe('0');
  });
});
