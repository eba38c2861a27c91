/** `bodywork-deploy deploy | status | teardown` against a sandbox, and `deploy --sandbox`, run as a user would. */
import { execFile } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KubeClient, loadKubeConfig } from '../../src/engine/kube/index.js';
import { batchProject, httpServer, serveGitRepository, useDeploySandbox } from '../engine/deploy/helpers.js';
import { cli, spawnCli } from './support/run-cli.js';

const s = useDeploySandbox();
const dirs = s.dirs;

const project = s.project;

describe('bodywork-deploy deploy', () => {
  it('deploys, streams prefixed stage logs to stderr, prints the table and exits 0; status and teardown follow', async () => {
    const dir = await project(
      batchProject('cli-ok', 'prepare >> train', { prepare: { script: 'print("preparing data")\n' }, train: { script: 'print("epoch 1 loss 0.5")\n' } }),
    );
    const r = await cli('deploy', dir, '--kubeconfig', s.kubeconfigFile, '--timeout', '60s');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('creating namespace=cli-ok\n');
    expect(r.stderr).toContain('Step 1/2: prepare\n');
    expect(r.stderr).toContain('[prepare] preparing data\n');
    expect(r.stderr).toContain('[train] epoch 1 loss 0.5\n');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^STAGE\s+TYPE\s+RESULT\s+ATTEMPTS\s+DURATION\s+URL$/);
    expect(lines[1]).toMatch(/^prepare\s+batch\s+succeeded\s+1\s+\d+s$/);
    expect(lines[2]).toMatch(/^train\s+batch\s+succeeded\s+1\s+\d+s$/);

    const st = await cli('status', dir, '--kubeconfig', s.kubeconfigFile);
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toMatch(/^train\s+batch\s+succeeded\s+Job\/train-/m);

    const td = await cli('teardown', dir, '--kubeconfig', s.kubeconfigFile);
    expect(td.code, td.stderr).toBe(0);
    expect(td.stdout).toBe('deleted namespace=cli-ok\n');
    expect(await s.client.exists('Namespace', undefined, 'cli-ok')).toBe(false);
    const gone = await cli('status', dir, '--kubeconfig', s.kubeconfigFile);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('namespace=cli-ok does not exist');
  });

  it('tears down only the project\'s objects in a namespace it did not create', async () => {
    await s.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shared' } });
    await s.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keep-me', namespace: 'shared' }, data: { a: '1' } });
    const dir = await project(batchProject('guest', 'one, two', { one: { script: 'print("one")\n' }, two: { script: 'print("two")\n' } }));
    const r = await cli('deploy', dir, '--kubeconfig', s.kubeconfigFile, '-n', 'shared', '--stages', 'two');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('namespace=shared already exists\n');
    expect(r.stdout.trimEnd().split('\n').slice(1)).toEqual([expect.stringMatching(/^two\s+batch\s+succeeded/)]);

    const td = await cli('teardown', dir, '--kubeconfig', s.kubeconfigFile, '-n', 'shared');
    expect(td.code, td.stderr).toBe(0);
    expect(td.stdout).toMatch(/^namespace=shared is not managed by bodywork-deploy for guest: deleted \d+ objects of the project, kept the namespace\n$/);
    expect(td.stderr).toMatch(/^deleted job=two-\S+ from namespace=shared$/m);
    expect(await s.client.exists('Namespace', undefined, 'shared')).toBe(true);
    expect(await s.client.exists('ConfigMap', 'shared', 'keep-me')).toBe(true);
    expect(await s.client.exists('ServiceAccount', 'shared', 'bodywork-stage')).toBe(false);
    const left = await s.client.list<V1Job>('Job', 'shared');
    expect(left.items.filter((j) => !j.metadata?.deletionTimestamp)).toEqual([]);
  });

  it('honours --keep-jobs, --no-prune and --lock-timeout, and rejects bad values', async () => {
    const dir = await project(batchProject('cli-flags', 'one, two', { one: { script: 'print("one")\n' }, two: { script: 'print("two")\n' } }));
    const live = async () => (await s.client.list<V1Job>('Job', 'cli-flags')).items.filter((j) => !j.metadata?.deletionTimestamp).map((j) => j.metadata?.name ?? '').sort();
    const r1 = await cli('deploy', dir, '--kubeconfig', s.kubeconfigFile);
    expect(r1.code, r1.stderr).toBe(0);
    expect(await live()).toEqual([expect.stringMatching(/^one-/), expect.stringMatching(/^two-/)]);
    // 'two' leaves the DAG: without prune its Job stays; with --keep-jobs 0 the Job of 'one' goes after its step.
    await writeFile(join(dir, 'bodywork.yaml'), (await readFile(join(dir, 'bodywork.yaml'), 'utf8')).replace('DAG: one, two', 'DAG: one'));
    const r2 = await cli('deploy', dir, '--kubeconfig', s.kubeconfigFile, '--no-prune', '--keep-jobs', '0', '--lock-timeout', '30s');
    expect(r2.code, r2.stderr).toBe(0);
    expect(await live()).toEqual([expect.stringMatching(/^two-/)]);
    const r3 = await cli('deploy', dir, '--kubeconfig', s.kubeconfigFile);
    expect(r3.code, r3.stderr).toBe(0);
    expect(await live()).toEqual([expect.stringMatching(/^one-/)]);
    for (const [flag, value, message] of [
      ['--keep-jobs', '-1', "--keep-jobs must be a whole number of 0 or more, got '-1'"],
      ['--lock-timeout', 'soon', "--lock-timeout must be a duration such as 30m, 1h or 90s, at most 596h, got 'soon'"],
    ]) {
      const bad = await cli('deploy', dir, '--kubeconfig', s.kubeconfigFile, flag, value);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(message);
    }
  });

  it('plans and deploys with --code-source git: the committed files of DIR, cloned from its origin remote', async () => {
    const files = batchProject('cli-git', 'train', { train: { script: 'print("committed", flush=True)\n' } });
    const repo = await project(Object.fromEntries(Object.entries(files).map(([k, v]) => [`ml/${k}`, v])));
    const git = (...args: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: repo }, (e, out) => (e ? reject(e) : resolve(out.trim()))),
      );
    await git('init', '-q');
    await git('add', '.');
    await git('commit', '-q', '-m', 'pipeline');
    const { server, bare } = await serveGitRepository(repo);
    dirs.push(server);
    await git('remote', 'add', 'origin', `file://${bare}`);
    const sha = await git('rev-parse', 'HEAD');
    await writeFile(join(repo, 'ml', 'train', 'main.py'), 'print("uncommitted", flush=True)\n');
    const dir = join(repo, 'ml');

    const p = await cli('plan', dir, '--code-source', 'git', '--git-token-secret', 'bodywork-git-token');
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).not.toContain('kind: ConfigMap');
    expect(p.stdout).toContain('initContainers:');
    expect(p.stdout).toContain(`value: file://${bare}`);
    expect(p.stdout).toContain(`value: ${sha}`);
    expect(p.stdout).toContain('subPath: ml');
    expect(p.stdout).toContain('name: bodywork-git-token');
    expect(p.stderr).toContain(`code cloned from git at ${sha.slice(0, 10)}`);
    const bad = await cli('plan', dir, '--code-source', 'svn');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--code-source must be bundle or git, got 'svn'");

    const r = await cli('deploy', dir, '--kubeconfig', s.kubeconfigFile, '--code-source', 'git');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('[train] committed\n');
    expect(r.stderr).not.toContain('uncommitted');
  });

  it('exits 1 when a stage fails, with the reason and the last log lines', async () => {
    const dir = await project(batchProject('cli-fail', 'broken', { broken: { script: 'import sys\nprint("cannot read input")\nsys.exit(2)\n' } }));
    const r = await cli('deploy', dir, '--kubeconfig', s.kubeconfigFile);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^broken\s+batch\s+failed\s+1\s+\d+s$/m);
    expect(r.stderr).toContain('[broken] cannot read input\n');
    expect(r.stderr).toMatch(/deployment failed/);
    // The tail ends with the script's own last line (the set-up's lines, such as the script-limit wrapper's, come before).
    expect(r.stderr).toMatch(/last log lines of broken:\n(?: {2}broken-\S+: .*\n)* {2}broken-\S+: cannot read input\ndeployment failed/);
  });

  it('exits 2 for a bad project without writing to the cluster', async () => {
    const namespaces = async () => (await s.client.list('Namespace', undefined)).items.map((n) => n.metadata?.name).sort();
    const before = await namespaces();
    const r = await cli('deploy', 'test/cli/fixtures/bad-ini', '--kubeconfig', s.kubeconfigFile);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe('2 problems in test/cli/fixtures/bad-ini');
    const bad = await cli('deploy', 'test/cli/fixtures/warnings', '--kubeconfig', s.kubeconfigFile, '--timeout', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--timeout must be a duration such as 30m, 1h or 90s, at most 596h, got 'soon'");
    expect(await namespaces()).toEqual(before);
  });

  it('cancels the run on SIGINT: running Jobs deleted, non-zero exit', async () => {
    const dir = await project(batchProject('cli-interrupt', 'waits', { waits: { script: 'import time\nprint("started", flush=True)\ntime.sleep(120)\n' } }));
    const run = spawnCli('deploy', dir, '--kubeconfig', s.kubeconfigFile);
    await run.waitFor(/\[waits\] started\n/);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(run.output().stdout).toMatch(/^waits\s+batch\s+cancelled\s+1\s+/m);
    const jobs = await s.client.list<V1Job>('Job', 'cli-interrupt');
    expect(jobs.items.filter((j) => !j.metadata?.deletionTimestamp)).toEqual([]);
  });
});

describe('bodywork-deploy deploy --sandbox', () => {
  it('deploys into its own sandbox, prints how to reach the services, serves until SIGINT, then stops everything', async () => {
    const work = await project({});
    // The service writes its pid here; a sandbox started as root runs it as an unprivileged user (kubelet/run-as.ts).
    await chmod(work, 0o777);
    const pidFile = join(work, 'api.pid');
    const dir = await project(
      batchProject('in-sandbox', 'hello >> api', {
        hello: { script: 'print("hello from the sandbox")\n' },
        api: { script: httpServer(5000, 'scored', pidFile), service: { port: 5000 } },
      }),
    );
    const run = spawnCli('deploy', dir, '--sandbox');
    const [, path] = await run.waitFor(/kubeconfig: (\S+) \(try: kubectl/);
    await run.waitFor(/the sandbox keeps serving; stop it with Ctrl-C\n/);
    const [, url] = await run.waitFor(/^api: (http:\/\/127\.0\.0\.1:\d+)$/m, 'stdout');
    const { stdout, stderr } = run.output();
    expect(stderr).toContain('[hello] hello from the sandbox\n');
    expect(stdout).toMatch(/^hello\s+batch\s+succeeded\s+1\s+/m);
    expect(stdout).toMatch(/^api\s+service\s+succeeded\s+1\s+\S+\s+http:\/\/api\.in-sandbox\.svc\.cluster\.local:5000$/m);
    expect(stderr).toContain(`kubectl --kubeconfig ${path} proxy`);
    expect(stderr).toContain('curl http://localhost:8001/api/v1/namespaces/in-sandbox/services/api/proxy/');
    // Still serving: the printed URL answers, and the kubeconfig reaches a live API server holding the run's objects.
    expect(await (await fetch(url)).text()).toBe('scored');
    const client = KubeClient.create(loadKubeConfig({ path }).kc);
    const jobs = await client.list<V1Job>('Job', 'in-sandbox');
    expect(jobs.items.map((j) => j.metadata?.name)).toEqual([expect.stringMatching(/^hello-/)]);
    const pid = Number(await readFile(pidFile, 'utf8'));
    expect(alive(pid)).toBe(true);

    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.output().stderr).toContain('stopping the sandbox\n');
    expect(existsSync(path)).toBe(false);
    expect(alive(pid)).toBe(false);
    await expect(client.list('Job', 'in-sandbox')).rejects.toThrow();
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
