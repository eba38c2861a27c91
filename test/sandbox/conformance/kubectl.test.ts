/**
 * The cluster seen by an independent client: the real kubectl drives the test cluster (the embedded sandbox, or the
 * upstream control plane with our node: the vitest project says which) through the scenario a user would run against
 * a cluster, in order, and every step is checked through kubectl's own output. The same expectations hold for both:
 * if kubectl or upstream disagrees with the sandbox, the sandbox is wrong.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KNOWN_KINDS } from '../../../src/engine/kube/index.js';
import { startTestCluster, type TestCluster } from '../../support/cluster.js';

let sandbox: TestCluster;
let dir: string;
let kubeconfig: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { timeout: 90_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** kubectl that must succeed; returns stdout. */
async function ok(...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  expect(r.stderr, `kubectl ${args.join(' ')}`).not.toMatch(/error/i);
  expect(r.code, `kubectl ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

function manifest(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const NS = 'conformance';

const deployment = (image: string) => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${NS}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
        - name: web
          image: ${image}
          command: [sh, -c, 'echo "web started on $(hostname)"; exec sleep 600']
          readinessProbe:
            exec: {command: ['true']}
            periodSeconds: 1
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'conformance-'));
  kubeconfig = join(dir, 'kubeconfig');
  // Upstream's Job back-off starts at 10 s; on the sandbox a short base keeps the retry scenario quick.
  sandbox = await startTestCluster(undefined, { kubeconfigPath: kubeconfig, sandbox: { controllers: { jobBackoffBaseMs: 200 } } });
});

afterAll(async () => {
  await sandbox?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('discovery', () => {
  // The engine sends requests for these kinds without discovering them first (client-types.ts).
  it("serves every kind the engine maps statically at the resource and scope of the engine's table", async () => {
    const versions = [...new Set(Object.values(KNOWN_KINDS).map((m) => m.apiVersion))];
    const served = new Map<string, { name: string; namespaced: boolean }>();
    for (const v of versions) {
      const list = JSON.parse(await ok('get', '--raw', v === 'v1' ? '/api/v1' : `/apis/${v}`)) as { resources: { name: string; kind: string; namespaced: boolean }[] };
      for (const r of list.resources) if (!r.name.includes('/')) served.set(`${v} ${r.kind}`, { name: r.name, namespaced: r.namespaced });
    }
    for (const [kind, m] of Object.entries(KNOWN_KINDS)) expect(served.get(`${m.apiVersion} ${kind}`), kind).toEqual({ name: m.resource, namespaced: m.namespaced });
  });
});

describe('kubectl against the test cluster, step by step', () => {
  it('creates a namespace', async () => {
    expect(await ok('create', 'namespace', NS)).toBe(`namespace/${NS} created\n`);
    expect(await ok('get', 'namespace', NS, '-o', 'jsonpath={.status.phase}')).toBe('Active');
  });

  it('applies a Deployment server-side and rolls it out', async () => {
    const file = manifest('web-v1.yaml', deployment('busybox:1.36'));
    expect(await ok('apply', '--server-side', '-f', file)).toBe('deployment.apps/web serverside-applied\n');
    expect(await ok('-n', NS, 'rollout', 'status', 'deployment/web', '--timeout=60s')).toContain('successfully rolled out');
    const pods = JSON.parse(await ok('-n', NS, 'get', 'pods', '-l', 'app=web', '-o', 'json'));
    expect(pods.items.map((p: any) => p.status.phase)).toEqual(['Running', 'Running']);
    expect(pods.items.every((p: any) => p.status.conditions.find((c: any) => c.type === 'Ready').status === 'True')).toBe(true);
  });

  it('shows container logs', async () => {
    expect(await ok('-n', NS, 'logs', 'deployment/web')).toMatch(/^web started on web-[a-z0-9]+-[a-z0-9]{5}\n$/);
  });

  it('rolls a new image out, then undoes it back to the previous template', async () => {
    await ok('-n', NS, 'set', 'image', 'deployment/web', 'web=busybox:1.37');
    await ok('-n', NS, 'rollout', 'status', 'deployment/web', '--timeout=60s');
    expect(await ok('-n', NS, 'get', 'deployment', 'web', '-o', 'jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}')).toBe('2');

    expect(await ok('-n', NS, 'rollout', 'undo', 'deployment/web')).toBe('deployment.apps/web rolled back\n');
    await ok('-n', NS, 'rollout', 'status', 'deployment/web', '--timeout=60s');
    expect(await ok('-n', NS, 'get', 'deployment', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}')).toBe('busybox:1.36');
    // The old ReplicaSet is reused with the next revision, as upstream: two ReplicaSets, revisions 2 and 3.
    const rs = JSON.parse(await ok('-n', NS, 'get', 'replicasets', '-l', 'app=web', '-o', 'json'));
    const revisions = rs.items.map((r: any) => [r.spec.template.spec.containers[0].image, r.metadata.annotations['deployment.kubernetes.io/revision'], r.spec.replicas]);
    expect(revisions.sort()).toEqual([
      ['busybox:1.36', '3', 2],
      ['busybox:1.37', '2', 0],
    ]);
  });

  it('creates a Job and waits for it to complete', async () => {
    await ok('-n', NS, 'create', 'job', 'hello', '--image=busybox', '--', 'sh', '-c', 'echo hello from the job');
    expect(await ok('-n', NS, 'wait', '--for=condition=complete', 'job/hello', '--timeout=60s')).toBe('job.batch/hello condition met\n');
    expect(await ok('-n', NS, 'logs', 'job/hello')).toBe('hello from the job\n');
  });

  it('runs a failing Job exactly backoffLimit + 1 times and ends it Failed/BackoffLimitExceeded', async () => {
    const file = manifest(
      'fail.yaml',
      `apiVersion: batch/v1
kind: Job
metadata: {name: fails, namespace: ${NS}}
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox, command: [sh, -c, 'echo attempt; exit 1']}]
`,
    );
    await ok('apply', '-f', file);
    // Upstream backs off 10 s then 20 s between attempts.
    expect(await ok('-n', NS, 'wait', '--for=condition=failed', 'job/fails', '--timeout=150s')).toBe('job.batch/fails condition met\n');
    const job = JSON.parse(await ok('-n', NS, 'get', 'job', 'fails', '-o', 'json'));
    expect(job.status.conditions.map((c: any) => [c.type, c.reason])).toEqual([
      ['FailureTarget', 'BackoffLimitExceeded'],
      ['Failed', 'BackoffLimitExceeded'],
    ]);
    expect(job.status.failed).toBe(3);
    const pods = JSON.parse(await ok('-n', NS, 'get', 'pods', '-l', 'job-name=fails', '-o', 'json'));
    expect(pods.items).toHaveLength(3);
    expect(pods.items.map((p: any) => p.status.phase)).toEqual(['Failed', 'Failed', 'Failed']);
  });

  it('deletes the namespace and everything in it', async () => {
    expect(await ok('delete', 'namespace', NS, '--timeout=60s')).toBe(`namespace "${NS}" deleted\n`);
    const gone = await kubectl('get', 'namespace', NS);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`namespaces "${NS}" not found`);
    // Nothing of the namespace is left: lists in a deleted namespace are empty, on upstream as here.
    expect(await ok('-n', NS, 'get', 'pods,deployments,replicasets,jobs', '-o', 'name')).toBe('');
  });
});
