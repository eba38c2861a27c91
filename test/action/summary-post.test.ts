/**
 * Without GITHUB_STEP_SUMMARY a run goes on (no summary, one debug line); the post step deletes only the kubeconfig
 * file the main step wrote under RUNNER_TEMP.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync, existsSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchProject, removeProject, startDeploySandbox, writeProject, type DeploySandbox } from '../engine/deploy/helpers.js';
import { startFakeGitHub, type FakeGitHub } from './support/fake-github.js';
import { root, runAction } from './support/run-action.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map(removeProject));
});

function planWorkspace(): string {
  const ws = mkdtempSync(join(tmpdir(), 'action-ws-'));
  dirs.push(ws);
  cpSync(join(root, 'examples', 'iris-pipeline'), join(ws, 'project'), { recursive: true });
  return ws;
}

describe('without GITHUB_STEP_SUMMARY', () => {
  it('plans, says so in one debug line, and succeeds', async () => {
    const run = await runAction({ workspace: planWorkspace(), inputs: { command: 'plan', 'project-dir': 'project' }, unset: ['GITHUB_STEP_SUMMARY'], env: { RUNNER_DEBUG: '1' } });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.outputs.status).toBe('success');
    expect(run.stdout.split('\n').filter((l) => l.includes('GITHUB_STEP_SUMMARY'))).toEqual(['::debug::GITHUB_STEP_SUMMARY is not set: no job summary written']);
  });

  describe('a deploy', () => {
    let s: DeploySandbox;
    let gh: FakeGitHub;
    beforeAll(async () => {
      s = await startDeploySandbox();
      gh = await startFakeGitHub();
    });
    afterAll(async () => {
      await gh?.stop();
      await s?.stop();
    });

    it('succeeds, and the GitHub deployment ends success, not in_progress', async () => {
      const ws = await writeProject(Object.fromEntries(Object.entries(batchProject('nosummary', 'train', { train: { script: 'print("ok", flush=True)\n' } })).map(([k, v]) => [`project/${k}`, v])));
      dirs.push(ws);
      const payload = { action: 'opened', number: 4, pull_request: { number: 4, head: { sha: 'c'.repeat(40), repo: { full_name: 'acme/iris' } }, base: { repo: { full_name: 'acme/iris' } } } };
      const run = await runAction({
        workspace: ws,
        inputs: { kubeconfig: s.sandbox.kubeconfig, 'project-dir': 'project', 'github-token': 'ghs_t', timeout: '90s' },
        env: { GITHUB_API_URL: gh.url },
        unset: ['GITHUB_STEP_SUMMARY'],
        event: { name: 'pull_request', payload },
      });
      expect(run.status, run.stdout + run.stderr).toBe(0);
      expect(run.outputs.status).toBe('success');
      expect(gh.deployments.map((d) => d.statuses.map((x) => x.state))).toEqual([['in_progress', 'success']]);
    });

    it('keeps a secret with markdown and HTML characters out of the summary, the PR comment and the statuses', async () => {
      const SECRET = 'pw_#1*<b>&x|y';
      const script = ['import os, sys', 'print("using", os.environ["DB_PASSWORD"], flush=True)', 'sys.exit("bad password " + os.environ["DB_PASSWORD"])', ''].join('\n');
      const files = batchProject('redact-demo', 'train', { train: { script, secrets: { DB_PASSWORD: 'db' } } });
      const ws = await writeProject(Object.fromEntries(Object.entries(files).map(([k, v]) => [`project/${k}`, v])));
      dirs.push(ws);
      const payload = { action: 'opened', number: 5, pull_request: { number: 5, head: { sha: 'd'.repeat(40), repo: { full_name: 'acme/iris' } }, base: { repo: { full_name: 'acme/iris' } } } };
      const run = await runAction({
        workspace: ws,
        inputs: { kubeconfig: s.sandbox.kubeconfig, 'project-dir': 'project', 'github-token': 'ghs_t', secrets: `db.DB_PASSWORD=${SECRET}`, timeout: '90s' },
        env: { GITHUB_API_URL: gh.url },
        event: { name: 'pull_request', payload },
      });
      expect(run.status).toBe(1);
      // The stage did print it (the runner masks the log); the summary shows it masked, not escaped.
      expect(run.summary).toContain('using &#42;&#42;&#42;');
      const posted = JSON.stringify(gh.calls.map((c) => c.body ?? {}));
      for (const text of [run.summary, posted]) {
        expect(text).not.toContain('pw_#1');
        expect(text).not.toContain('pw&#95;&#35;1');
        expect(text).not.toContain('&lt;b&gt;&amp;x');
      }
      expect(gh.comments.filter((c) => c.issue === 5)).toHaveLength(1);
    });
  });
});

describe('the post step', () => {
  function runnerTemp(): string {
    const dir = mkdtempSync(join(tmpdir(), 'action-runner-temp-'));
    dirs.push(dir);
    return dir;
  }

  it('deletes the kubeconfig file named in its state when it is the action\'s, directly in RUNNER_TEMP', async () => {
    const temp = runnerTemp();
    const file = join(temp, 'bodywork-kubeconfig-0123456789ab');
    writeFileSync(file, 'x');
    const post = await runAction({ entry: 'post', workspace: temp, inputs: {}, env: { RUNNER_TEMP: temp, 'STATE_kubeconfig-path': file } });
    expect(post.status, post.stderr).toBe(0);
    expect(existsSync(file)).toBe(false);
  });

  it.each([
    ['a file of another name', (temp: string) => { writeFileSync(join(temp, 'id_rsa'), 'x'); return join(temp, 'id_rsa'); }],
    ['a file outside RUNNER_TEMP', (_temp: string, other: string) => { writeFileSync(join(other, 'bodywork-kubeconfig-0123456789ab'), 'x'); return join(other, 'bodywork-kubeconfig-0123456789ab'); }],
    ['a path through a link out of RUNNER_TEMP', (temp: string, other: string) => {
      writeFileSync(join(other, 'bodywork-kubeconfig-0123456789ab'), 'x');
      symlinkSync(other, join(temp, 'link'));
      return join(temp, 'link', 'bodywork-kubeconfig-0123456789ab');
    }],
    ['a path climbing out with ..', (temp: string, other: string) => {
      mkdirSync(join(temp, 'sub'));
      writeFileSync(join(other, 'bodywork-kubeconfig-0123456789ab'), 'x');
      return join(temp, 'sub', '..', '..', other.split('/').pop()!, 'bodywork-kubeconfig-0123456789ab');
    }],
    ['a directory of that name', (temp: string) => {
      mkdirSync(join(temp, 'bodywork-kubeconfig-0123456789ab'));
      return join(temp, 'bodywork-kubeconfig-0123456789ab');
    }],
  ])('refuses %s', async (_what, make) => {
    const temp = runnerTemp();
    const other = runnerTemp();
    const target = make(temp, other);
    const post = await runAction({ entry: 'post', workspace: temp, inputs: {}, env: { RUNNER_TEMP: temp, 'STATE_kubeconfig-path': target } });
    expect(post.status, post.stderr).toBe(0);
    expect(post.stdout).toMatch(/^::warning::bodywork-deploy: not deleting /m);
    expect(existsSync(target)).toBe(true);
  });
});
