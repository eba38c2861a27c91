/**
 * PR previews that clean up, through the action (the source entry point, as the runner runs it) against the test
 * cluster and the fake GitHub: a closed PR's teardown deletes the preview's GitHub environment (or, with a token that
 * may not, warns naming the permission and still succeeds), and `command: sweep-previews` tears down the previews of
 * closed, merged and deleted pull requests and keeps the open one's.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchProject, removeProject, startDeploySandbox, writeProject, type DeploySandbox } from '../engine/deploy/helpers.js';
import { startFakeGitHub, type FakeGitHub } from './support/fake-github.js';
import { runAction, type ActionRun } from './support/run-action.js';

/** A fine-grained PAT with "Administration: write" (the fake lets a user's token delete environments). */
const ADMIN_TOKEN = 'github_pat_adminForTests01';
/** An installation token, as GITHUB_TOKEN: it may not delete environments. */
const ACTIONS_TOKEN = 'ghs_actionsTokenForTests01';

let s: DeploySandbox;
let gh: FakeGitHub;
let kubeconfig: string;
let ws: string;
const dirs: string[] = [];

beforeAll(async () => {
  s = await startDeploySandbox();
  gh = await startFakeGitHub();
  gh.identities.set(ADMIN_TOKEN, { user: 'octo-admin' });
  kubeconfig = s.sandbox.kubeconfig;
  ws = await writeProject(Object.fromEntries(Object.entries(batchProject('preview-clean', 'train', { train: { script: 'print("trained", flush=True)\n' } })).map(([k, v]) => [`project/${k}`, v])));
  dirs.push(ws);
});
afterAll(async () => {
  await gh?.stop();
  await s?.stop();
  await Promise.all(dirs.map(removeProject));
});

function prEvent(number: number, action: string) {
  return {
    name: 'pull_request',
    payload: { action, number, pull_request: { number, head: { sha: 'c'.repeat(40), repo: { full_name: 'acme/iris', fork: false } }, base: { repo: { full_name: 'acme/iris' } } } },
  };
}

/** The action on PR `number`'s event `action`, previews of the base namespace `base`. */
function onPr(base: string, number: number, action: string, token: string): Promise<ActionRun> {
  return runAction({
    workspace: ws,
    inputs: { kubeconfig, 'project-dir': 'project', namespace: base, timeout: '90s', 'github-token': token },
    env: { GITHUB_API_URL: gh.url },
    runId: `${number}${action.length}`,
    event: prEvent(number, action),
  });
}

function sweep(inputs: Record<string, string> = {}): Promise<ActionRun> {
  return runAction({ workspace: ws, inputs: { command: 'sweep-previews', kubeconfig, 'github-token': ADMIN_TOKEN, ...inputs }, env: { GITHUB_API_URL: gh.url }, event: { name: 'schedule', payload: { schedule: '17 3 * * *' } } });
}

const annotations = (run: ActionRun, kind: string) => run.stdout.split('\n').filter((l) => l.startsWith(`::${kind}`));
const namespaceExists = (name: string) => s.client.exists('Namespace', undefined, name);

describe('closing a PR', () => {
  it('deletes the preview\'s GitHub environment after the teardown; a second close finds it gone', async () => {
    const opened = await onPr('envns', 21, 'opened', ADMIN_TOKEN);
    expect(opened.status, opened.stdout + opened.stderr).toBe(0);
    expect(gh.environments.has('envns-pr-21')).toBe(true);
    const ns = await s.client.get<KubernetesObject>('Namespace', undefined, 'envns-pr-21');
    expect(ns.metadata?.labels?.['bodywork.dev/preview-pr']).toBe('21');
    expect(ns.metadata?.annotations?.['bodywork.dev/preview-repository']).toBe('acme/iris');

    const closed = await onPr('envns', 21, 'closed', ADMIN_TOKEN);
    expect(closed.status, closed.stdout + closed.stderr).toBe(0);
    expect(await namespaceExists('envns-pr-21')).toBe(false);
    expect(gh.environments.has('envns-pr-21')).toBe(false);
    expect(gh.calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual(['/repos/acme/iris/environments/envns-pr-21']);
    expect(closed.stdout).toContain('deleted the GitHub environment envns-pr-21');
    expect(closed.summary).toContain('GitHub environment <code>envns-pr-21</code>: deleted.');
    expect(annotations(closed, 'warning')).toEqual([]);

    const again = await onPr('envns', 21, 'closed', ADMIN_TOKEN);
    expect(again.status, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('the GitHub environment envns-pr-21 does not exist: nothing to delete');
    expect(annotations(again, 'warning')).toEqual([]);
  });

  it('warns naming "Administration: write" when the token (GITHUB_TOKEN) may not delete it, and still succeeds', async () => {
    const opened = await onPr('envns', 22, 'opened', ACTIONS_TOKEN);
    expect(opened.status, opened.stdout + opened.stderr).toBe(0);
    const closed = await onPr('envns', 22, 'closed', ACTIONS_TOKEN);
    expect(closed.status, closed.stdout + closed.stderr).toBe(0);
    expect(closed.outputs.status).toBe('success');
    expect(await namespaceExists('envns-pr-22')).toBe(false);
    const warnings = annotations(closed, 'warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('could not delete the GitHub environment envns-pr-22: Resource not accessible by integration');
    expect(warnings[0]).toContain('"Administration: write"');
    expect(warnings[0]).toContain('fine-grained personal access token or a GitHub App installation token');
    expect(annotations(closed, 'error')).toEqual([]);
    // Left, but shown as torn down: its deployments are inactive.
    expect(gh.environments.has('envns-pr-22')).toBe(true);
    for (const d of gh.deployments.filter((x) => x.environment === 'envns-pr-22')) expect(d.statuses.at(-1)?.state).toBe('inactive');
    expect(closed.summary).toContain('GitHub environment <code>envns-pr-22</code>: kept: the token lacks');
  });
});

describe('command: sweep-previews', () => {
  it('tears down the previews of closed, merged and deleted PRs, keeps the open one and everything not a preview of this repository', async () => {
    // A preview made before previews were labelled: only the project's labels. Its next deploy labels it.
    const projectLabels = { 'app.kubernetes.io/managed-by': 'bodywork-deploy', 'app.kubernetes.io/part-of': 'preview-clean' };
    await s.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sweepns-pr-33', labels: projectLabels } });
    for (const pr of [31, 32, 33]) {
      const run = await onPr('sweepns', pr, 'opened', ADMIN_TOKEN);
      expect(run.status, run.stdout + run.stderr).toBe(0);
    }
    const relabelled = await s.client.get<KubernetesObject>('Namespace', undefined, 'sweepns-pr-33');
    expect(relabelled.metadata?.labels?.['bodywork.dev/preview-pr']).toBe('33');
    // Another repository's preview (its PR 5 is not ours to ask about) and an unlabelled namespace: never touched.
    await s.client.create({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'other-pr-5', labels: { ...projectLabels, 'app.kubernetes.io/part-of': 'other', 'bodywork.dev/preview-pr': '5' }, annotations: { 'bodywork.dev/preview-repository': 'acme/other' } },
    });
    await s.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sweepns-pr-40', labels: projectLabels } });
    gh.pulls.set(31, { state: 'open', title: '<img src=x onerror=alert(1)> ::error::not a command' });
    gh.pulls.set(32, { state: 'closed', merged: true, title: 'Merge **me**' });
    // 33: deleted (GitHub answers 404).

    const dry = await sweep({ 'dry-run': 'true' });
    expect(dry.status, dry.stdout + dry.stderr).toBe(0);
    expect(JSON.parse(dry.outputs.swept)).toEqual(['sweepns-pr-32', 'sweepns-pr-33']);
    for (const name of ['sweepns-pr-31', 'sweepns-pr-32', 'sweepns-pr-33']) expect(await namespaceExists(name)).toBe(true);
    expect(dry.summary).toContain('3 preview namespaces: 2 would be torn down (dry run), 1 kept.');

    const run = await sweep();
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.outputs.status).toBe('success');
    expect(JSON.parse(run.outputs.swept)).toEqual(['sweepns-pr-32', 'sweepns-pr-33']);
    expect(await namespaceExists('sweepns-pr-31')).toBe(true);
    expect(await namespaceExists('sweepns-pr-32')).toBe(false);
    expect(await namespaceExists('sweepns-pr-33')).toBe(false);
    expect(await namespaceExists('other-pr-5')).toBe(true);
    expect(await namespaceExists('sweepns-pr-40')).toBe(true);
    expect(gh.environments.has('sweepns-pr-31')).toBe(true);
    expect(gh.environments.has('sweepns-pr-32')).toBe(false);
    expect(gh.environments.has('sweepns-pr-33')).toBe(false);
    for (const d of gh.deployments.filter((x) => x.environment === 'sweepns-pr-32')) expect(d.statuses.at(-1)?.state).toBe('inactive');
    expect(run.stdout).toContain('sweepns-pr-32: pull request #32 merged: torn down (deleted namespace=sweepns-pr-32)');
    expect(run.stdout).toContain('sweepns-pr-33: pull request #33 gone: torn down');
    expect(run.stdout).toContain('sweepns-pr-31: pull request #31 open: kept');
    expect(annotations(run, 'error')).toEqual([]);
    expect(annotations(run, 'warning')).toEqual([]);

    const sum = run.summary;
    expect(sum).toContain('## 🧹 Bodywork preview sweep: <code>acme/iris</code>');
    expect(sum).toContain('3 preview namespaces: 2 torn down, 1 kept.');
    expect(sum).toContain('<tr><td><code>sweepns-pr-32</code></td><td><a href="https://github.com/acme/iris/pull/32">&#35;32</a> Merge &#42;&#42;me&#42;&#42;</td><td>merged</td><td>🧹 torn down: deleted namespace=sweepns-pr-32</td><td>deleted</td></tr>');
    expect(sum).toContain('<td>gone</td>');
    expect(sum).toContain('&lt;img src=x onerror=alert(1)&gt; ::error::not a command');
    expect(sum).not.toContain('<img');
    expect(sum).not.toContain('other-pr-5');

    // Nothing left to sweep.
    const after = await sweep();
    expect(after.status, after.stdout + after.stderr).toBe(0);
    expect(JSON.parse(after.outputs.swept)).toEqual([]);
    expect(after.summary).toContain('1 preview namespace: 0 torn down, 1 kept.');
  });

  it('refuses dry-run with another command, and a sweep without github-token', async () => {
    const dry = await runAction({ workspace: ws, inputs: { kubeconfig, 'project-dir': 'project', 'dry-run': 'true' } });
    expect(dry.status).toBe(1);
    expect(annotations(dry, 'error')).toEqual([expect.stringContaining('input dry-run: only for command: sweep-previews')]);
    const noToken = await runAction({ workspace: ws, inputs: { command: 'sweep-previews', kubeconfig, 'github-token': '' } });
    expect(noToken.status).toBe(1);
    expect(annotations(noToken, 'error')).toEqual([expect.stringContaining('command: sweep-previews needs github-token')]);
  });
});
