/**
 * The controllers and kubelet seen through the real HTTP API server by the real kubectl: rollout status, rollout
 * undo, wait --for=condition=complete and logs must behave as on a cluster.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../../src/sandbox/apiserver/index.js';
import { sandboxKubeconfig, writeKubeconfig } from '../../../src/sandbox/kubeconfig.js';
import { deployment as baseDeployment, job, startHarness, type Harness } from './helpers.js';

const run = promisify(execFile);
let kubectl: string | undefined;
for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
  if (dir && fs.existsSync(path.join(dir, 'kubectl'))) {
    kubectl = path.join(dir, 'kubectl');
    break;
  }
}

let h: Harness;
let server: ApiServer;
let kubeconfig: string;

async function k(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run(kubectl!, ['--kubeconfig', kubeconfig, ...args], { timeout: 60_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err: any) {
    return { code: err.code ?? 1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

function manifest(name: string, obj: unknown): string {
  const f = path.join(h.dataDir, `${name}.json`);
  fs.writeFileSync(f, JSON.stringify(obj));
  return f;
}

const deployment = (name: string, extra: Record<string, unknown> = {}, probe: string[] = ['true']) =>
  baseDeployment(name, { replicas: 2, ...extra }, {
    terminationGracePeriodSeconds: 1,
    containers: [{ name: 'web', image: 'nginx:1.27', command: ['sh', '-c', 'echo up; exec sleep 300'], readinessProbe: { exec: { command: probe }, periodSeconds: 1 } }],
  });

describe.skipIf(!kubectl)('kubectl against the sandbox', () => {
  beforeAll(async () => {
    h = await startHarness();
    server = await startApiServer({ store: h.store, logs: h.kubelet.logs });
    kubeconfig = path.join(h.dataDir, 'kubeconfig');
    writeKubeconfig(kubeconfig, sandboxKubeconfig(server));
  });
  afterAll(async () => {
    await server?.close();
    await h?.stop();
  });

  it('rollout status, a template change, rollout undo', async () => {
    expect((await k('apply', '--validate=false', '-f', manifest('web', deployment('web')))).code).toBe(0);
    let r = await k('rollout', 'status', 'deployment/web', '--timeout=40s');
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toContain('deployment "web" successfully rolled out');

    r = await k('set', 'env', 'deployment/web', 'VERSION=2');
    expect(r.code).toBe(0);
    r = await k('rollout', 'status', 'deployment/web', '--timeout=40s');
    expect(r.out).toContain('deployment "web" successfully rolled out');
    expect(h.store.get('apps/deployments', 'default', 'web').metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');

    r = await k('rollout', 'undo', 'deployment/web');
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toContain('deployment.apps/web rolled back');
    r = await k('rollout', 'status', 'deployment/web', '--timeout=40s');
    expect(r.out).toContain('deployment "web" successfully rolled out');
    const d = h.store.get('apps/deployments', 'default', 'web');
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    expect(d.spec.template.spec.containers[0].env).toBeUndefined();
    r = await k('rollout', 'history', 'deployment/web');
    expect(r.out).toMatch(/2\s+<none>[\s\S]*3\s+<none>/);
  });

  it('rollout status fails on a progress deadline', async () => {
    expect((await k('apply', '--validate=false', '-f', manifest('stuck', deployment('stuck', { progressDeadlineSeconds: 2 }, ['false'])))).code).toBe(0);
    const r = await k('rollout', 'status', 'deployment/stuck', '--timeout=40s');
    expect(r.code).toBe(1);
    expect(r.out).toContain('error: deployment "stuck" exceeded its progress deadline');
  });

  it('logs: container choice, --previous, --tail and -f through the API server', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'two', namespace: 'default' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          { name: 'a', image: 'busybox', command: ['sh', '-c', 'echo first; echo second; exit 1'] },
          { name: 'b', image: 'busybox', command: ['sh', '-c', 'echo b-out; sleep 1; echo b-late; sleep 300'] },
        ],
      },
    };
    expect((await k('apply', '--validate=false', '-f', manifest('two', pod))).code).toBe(0);
    expect((await k('wait', '--for=jsonpath={.status.containerStatuses[0].restartCount}=1', 'pod/two', '--timeout=40s')).code).toBe(0);
    // kubectl picks the first container itself; the server's 400 shows on a raw request.
    let r = await k('logs', 'two');
    expect(r.out).toContain('Defaulted container "a" out of: a, b');
    r = await k('get', '--raw', '/api/v1/namespaces/default/pods/two/log');
    expect(r.code).toBe(1);
    expect(r.out).toContain('a container name must be specified for pod two, choose one of: [a b]');
    r = await k('logs', 'two', '-c', 'a', '--previous', '--tail=1');
    expect(r).toMatchObject({ code: 0, out: 'second\n' });
    r = await k('logs', 'two', '-c', 'b', '-f', '--tail=1', '--request-timeout=3s');
    // -f streams until the request times out; b-late arrived while following.
    expect(r.out).toContain('b-late');
  });

  it('wait --for=condition=complete and logs of a job', async () => {
    expect((await k('apply', '--validate=false', '-f', manifest('hello', job('hello', 'echo hello from the job')))).code).toBe(0);
    const r = await k('wait', '--for=condition=complete', 'job/hello', '--timeout=40s');
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toContain('job.batch/hello condition met');
    const pods = h.store.list('pods', 'default', { labelSelector: 'job-name=hello' }).items;
    expect(pods).toHaveLength(1);
    const logs = await k('logs', pods[0].metadata.name!);
    expect(logs.out).toBe('hello from the job\n');
    const failed = await k('apply', '--validate=false', '-f', manifest('boom', job('boom', 'exit 1', { backoffLimit: 0 })));
    expect(failed.code).toBe(0);
    const w = await k('wait', '--for=condition=failed', 'job/boom', '--timeout=40s');
    expect(w.out).toContain('job.batch/boom condition met');
  });
});
