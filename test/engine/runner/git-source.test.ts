/**
 * The in-cluster runner with the git code source: its pod clones the deployed commit as the stage pods do (the
 * `fetch-code` init container, as the runner's non-root user), reads the project there, and plans the stages to clone
 * it too; no code ConfigMaps. From the action (`runner: cluster`, `code-source: git`, the git-token Secret) and the CLI.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1ConfigMap, V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { runAction } from '../../action/support/run-action.js';
import { batchProject, serveGitRepository, useDeploySandbox } from '../deploy/helpers.js';
import { finalRecord, runnerCli, useBuiltCli } from './helpers.js';

/** The runner's user (objects.ts): the stage pods run as it too here, so both may read the served repository. */
const POD_USER = 1000;
const s = useDeploySandbox({ kubelet: { runAs: { defaultUser: { uid: POD_USER, gid: POD_USER } } } });
const built = useBuiltCli();
const run = runnerCli(built, () => s.kubeconfigFile);

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd, encoding: 'utf8' }).trim();
}

/** A repository with the project in `pipeline/`, committed, then changed in the working tree; served as acme/iris.git. */
async function repository(name: string) {
  const files = batchProject(name, 'train', { train: { script: 'print("committed version", flush=True)\n' } });
  const repo = await s.project(Object.fromEntries(Object.entries(files).map(([k, v]) => [`pipeline/${k}`, v])));
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'pipeline');
  writeFileSync(join(repo, 'pipeline', 'train', 'main.py'), 'print("uncommitted version", flush=True)\n');
  const { server, bare } = await serveGitRepository(repo, 'acme/iris.git', POD_USER);
  s.dirs.push(server);
  return { repo, server, bare, commit: git(repo, 'rev-parse', 'HEAD') };
}

/** The run's outcome, the runner pod's log and what it left in the namespace. */
async function ranFromGit(ns: string, job: string) {
  expect(await finalRecord(s.client, ns, job)).toMatchObject({ phase: 'succeeded', steps: 1 });
  const runner = await s.client.get<V1Job>('Job', ns, job);
  const pod = (await s.client.list<V1Pod>('Pod', ns, { labelSelector: `batch.kubernetes.io/job-name=${job}` })).items[0];
  const log = await s.client.podLog(ns, pod.metadata!.name!, {});
  const codeMaps = (await s.client.list<V1ConfigMap>('ConfigMap', ns)).items.filter((c) => c.metadata?.labels?.['bodywork.dev/code-hash'] !== undefined);
  return { template: runner.spec!.template.spec!, log, codeMaps };
}

describe('the in-cluster runner with code-source git', () => {
  it('the action: the runner and its stages clone GITHUB_SHA, with the git-token Secret', async () => {
    const { repo, server, commit } = await repository('runner-git');
    const ns = 'runner-git';
    const started = await runAction({
      workspace: repo,
      env: { ...built.env(), GITHUB_SERVER_URL: `file://${server}`, GITHUB_SHA: commit },
      inputs: { kubeconfig: s.sandbox.kubeconfig, namespace: ns, 'project-dir': 'pipeline', 'code-source': 'git', 'git-token': 'gt-5hQ9v', runner: 'cluster', timeout: '5m' },
    });
    expect(started.status, started.stdout + started.stderr).toBe(0);
    const job = started.outputs['runner-job'];
    expect(started.outputs.status).toBe('running');
    const { template, log, codeMaps } = await ranFromGit(ns, job);
    expect(template.initContainers?.map((c) => c.name)).toEqual(['fetch-code']);
    expect(template.initContainers?.[0].env).toContainEqual({ name: 'GIT_TOKEN', valueFrom: { secretKeyRef: { name: 'bodywork-git-token', key: 'token' } } });
    expect(template.containers[0].args).toEqual(expect.arrayContaining(['/bodywork/checkout/pipeline', '--code-source', 'git', '--git-url', `file://${server}/acme/iris.git`, '--commit', commit, '--git-subdir', 'pipeline']));
    expect(log).toContain('[train] committed version');
    expect(log).not.toContain('uncommitted');
    expect(log).not.toContain('gt-5hQ9v');
    expect(codeMaps).toEqual([]);
  });

  it('the CLI: deploy --runner cluster --code-source git clones the commit of DIR', async () => {
    const { repo, bare, commit } = await repository('runner-git-cli');
    const ns = 'runner-git-cli';
    const started = await run('deploy', join(repo, 'pipeline'), '--runner', 'cluster', '--code-source', 'git', '--git-url', `file://${bare}`, '-n', ns, '-o', 'json');
    expect(started.code, started.stderr).toBe(0);
    const doc = JSON.parse(started.stdout);
    const { template, log, codeMaps } = await ranFromGit(ns, doc.job);
    expect(template.containers[0].args).toEqual(expect.arrayContaining(['--commit', commit, '--git-subdir', 'pipeline']));
    expect(log).toContain('[train] committed version');
    expect(codeMaps).toEqual([]);
  });
});
