/**
 * The in-cluster runner on a pull request preview: `runner: cluster` writes the preview's sticky PR comment (the one
 * a preview deploy keeps) saying the DAG runs in the cluster and how to follow it; `command: status` in a later
 * workflow run of that pull request updates the same comment with the stage results and how the run ended, with
 * every text from the run escaped as the deploy's comment escapes it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '../../action/support/run-action.js';
import { startFakeGitHub, type FakeGitHub } from '../../action/support/fake-github.js';
import type { Manifest } from '../../../src/engine/kube/index.js';
import { progressConfigMap } from '../../../src/engine/runner/progress.js';
import { batchProject, sharedDir, useDeploySandbox } from '../deploy/helpers.js';
import { finalRecord, useBuiltCli, waitsFor } from './helpers.js';

const s = useDeploySandbox();
const built = useBuiltCli();
let gh: FakeGitHub;
beforeAll(async () => {
  gh = await startFakeGitHub();
});
afterAll(() => gh?.stop());

const PR = 31;
const event = {
  name: 'pull_request',
  payload: { action: 'synchronize', number: PR, pull_request: { number: PR, head: { sha: 'c'.repeat(40), repo: { full_name: 'acme/iris', fork: false } }, base: { repo: { full_name: 'acme/iris' } } } },
};

describe('the in-cluster runner on a pull request preview', () => {
  it('comments that the DAG runs in the cluster; command: status in a later run updates the comment with the escaped result', async () => {
    const go = join(await sharedDir(), 'go');
    const failing = `${waitsFor(go, 'train')}raise SystemExit(3)\n`;
    const dir = await s.project(
      Object.fromEntries(
        Object.entries(batchProject('runner-pr', 'train >> api', { train: { script: failing }, api: { script: 'print("must not run")\n' } })).map(([k, v]) => [`project/${k}`, v]),
      ),
    );
    const ns = 'runner-pr-pr-31';
    const inputs = { kubeconfig: s.sandbox.kubeconfig, 'project-dir': 'project', namespace: 'runner-pr', timeout: '5m', 'github-token': 'ghs-fake' };
    const env = { ...built.env(), GITHUB_API_URL: gh.url };

    const started = await runAction({ workspace: dir, env, event, inputs: { ...inputs, runner: 'cluster' } });
    expect(started.status, started.stdout + started.stderr).toBe(0);
    const job = started.outputs['runner-job'];
    expect(started.outputs).toMatchObject({ status: 'running', namespace: ns });
    expect(gh.comments).toHaveLength(1);
    const first = gh.comments[0];
    expect(first.issue).toBe(PR);
    expect(first.body).toContain(`<!-- bodywork-deploy:${ns} -->`);
    expect(first.body).toContain(`### ⏳ Bodywork preview: <code>${ns}</code> running in the cluster`);
    expect(first.body).toContain(`in the in-cluster runner's Job <code>${job}</code>, which outlives the workflow run: step 1/2 under way (train)`);
    expect(first.body).toContain(`<code>kubectl logs -f job/${job} -n ${ns}</code>`);
    expect(first.body).toContain('<code>command: status</code> in a later workflow run of this pull request updates this comment');

    writeFileSync(go, '');
    const record = await finalRecord(s.client, ns, job);
    expect(record).toMatchObject({ phase: 'failed' });
    // The record is cluster data, which anyone who may write the namespace's ConfigMaps can set: text, never markup.
    const hostile = '<img src=x onerror=alert(1)> **not bold** | pipe';
    const stages = record!.stages.map((x) => (x.stage === 'train' ? { ...x, reason: hostile } : x));
    await s.client.apply(progressConfigMap({ ...record!, stages }) as unknown as Manifest);
    const status = await runAction({ workspace: dir, env, event, inputs: { ...inputs, command: 'status' } });
    expect(status.status).toBe(1);
    expect(status.outputs).toMatchObject({ status: 'failure', 'runner-phase': 'failed', 'runner-job': job });
    expect(gh.comments).toHaveLength(1);
    const body = gh.comments[0].body;
    expect(gh.comments[0].id).toBe(first.id);
    expect(body).toContain(`### ❌ Bodywork preview: <code>${ns}</code> failed`);
    expect(body).toContain(`ran in the cluster, in the in-cluster runner's Job <code>${job}</code>.`);
    expect(body).toContain('**Failure:** stage &#39;train&#39; (step 1) failed: &lt;img src=x onerror=alert(1)&gt; &#42;&#42;not bold&#42;&#42; &#124; pipe');
    expect(body).toMatch(/<td><code>train<\/code><\/td><td>batch<\/td><td>❌ failed/);
    expect(body).toMatch(/<td><code>api<\/code><\/td><td>batch<\/td><td>⏭️ skipped/);
    expect(body).not.toContain('<img');
    expect(body).not.toContain('**not bold**');
    expect(body).not.toContain('in a later workflow run of this pull request updates this comment');
  });
});
