/** The `git` code source end to end: stage pods clone a local repository (file://) at the deployed commit. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployProject } from '../../../src/engine/deploy/deploy.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { batchProject, newRunId, planDir, serveGitRepository, useDeploySandbox, writeProject } from './helpers.js';

const s = useDeploySandbox();
const dirs = s.dirs;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.email=test@example.com', '-c', 'user.name=test', ...args], { cwd, encoding: 'utf8' }).trim();
}

/**
 * A git repository holding a one-stage batch project in `pipeline/`, committed; the working tree then changed (not
 * committed). `url` is where the pods clone it from: a served bare clone.
 */
async function repository(name: string): Promise<{ repo: string; commit: string; url: string }> {
  const files = batchProject(name, 'train', { train: { script: 'print("committed version", flush=True)\n' } });
  const repo = await writeProject(Object.fromEntries(Object.entries(files).map(([k, v]) => [`pipeline/${k}`, v])));
  dirs.push(repo);
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'pipeline');
  writeFileSync(join(repo, 'pipeline', 'train', 'main.py'), 'print("uncommitted version", flush=True)\n');
  const { server, bare } = await serveGitRepository(repo);
  dirs.push(server);
  return { repo, commit: git(repo, 'rev-parse', 'HEAD'), url: `file://${bare}` };
}

describe('the git code source', () => {
  it('runs the committed files of the project subdirectory, with no code ConfigMaps', async () => {
    const { repo, commit, url } = await repository('git-ok');
    const { spec, plan } = await planDir(join(repo, 'pipeline'), { codeSource: { type: 'git', url, commit }, repoSubdir: 'pipeline', commitSha: commit });
    expect(plan.setup.filter((o) => o.kind === 'ConfigMap')).toEqual([]);
    const lines: string[] = [];
    const r = await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan, runId: newRunId(), timeoutMs: 60_000, onLogLine: (_s, l) => lines.push(l) });
    expect(r.status, JSON.stringify(r)).toBe('success');
    expect(lines).toContain('[train] committed version');
    expect(lines.join('\n')).not.toContain('uncommitted');
    const configMaps = await s.client.list('ConfigMap', plan.namespace);
    expect(configMaps.items.filter((c) => c.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'bodywork-deploy')).toEqual([]);
  });

  it('reads the token from its Secret, and fails at once naming the Secret when it is missing', async () => {
    const { repo, commit, url } = await repository('git-token');
    const codeSource = { type: 'git' as const, url, commit, tokenSecret: 'git-token' };
    const { spec, plan } = await planDir(join(repo, 'pipeline'), { codeSource, repoSubdir: 'pipeline' });
    const missing = await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan, runId: newRunId(), timeoutMs: 60_000 });
    expect(missing.stages[0]).toMatchObject({ stage: 'train', status: 'failed' });
    expect(missing.stages[0].reason).toMatch(/cannot start: CreateContainerConfigError: init container "fetch-code".*git-token/);
    await s.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'git-token', namespace: plan.namespace }, stringData: { token: 't0ken' } });
    const lines: string[] = [];
    const r = await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan, runId: newRunId(), timeoutMs: 60_000, onLogLine: (_s, l) => lines.push(l) });
    expect(r.status, JSON.stringify(r)).toBe('success');
    expect(lines).toContain('[train] committed version');
  });

  it('fails the stage when the commit does not exist, with the init container\'s error in the log tail', async () => {
    const { repo, url } = await repository('git-bad');
    const missing = 'deadbeef'.repeat(5);
    const { spec, plan } = await planDir(join(repo, 'pipeline'), { codeSource: { type: 'git', url, commit: missing }, repoSubdir: 'pipeline' });
    const r = await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan, runId: newRunId(), timeoutMs: 60_000 });
    expect(r.status).toBe('failure');
    expect(r.stages[0]).toMatchObject({ stage: 'train', status: 'failed' });
    expect(r.stages[0].reason).toMatch(/init container "fetch-code" exit code 128/);
    const tail = (r.stages[0].logTail ?? []).join('\n');
    expect(tail).toMatch(/\/fetch-code: fetching commit deadbeef/);
    expect(tail).toMatch(/\/fetch-code: .*(not our ref|couldn't find remote ref|upload-pack)/i);
  });
});
