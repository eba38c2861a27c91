/**
 * The action's deploy, teardown and PR previews, run as the runner runs it (the source entry point through tsx,
 * INPUT_* variables, GITHUB_* files, event payloads) against the embedded sandbox, with GitHub's REST API faked on
 * 127.0.0.1 (GITHUB_API_URL).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Deployment, V1Secret } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchProject, httpServer, removeProject, serveGitRepository, startDeploySandbox, writeProject, type DeploySandbox } from '../engine/deploy/helpers.js';
import { startFakeGitHub, type FakeGitHub } from './support/fake-github.js';
import { runAction, type ActionRun } from './support/run-action.js';

/** The sandbox's token (32 random bytes, so no other text contains it): it must show up only inside ::add-mask::. */
let KUBE_TOKEN: string;
const SECRET_VALUE = 'pw-Xy91QzR7tK3vB6nA';

let s: DeploySandbox;
let gh: FakeGitHub;
let kubeconfig: string;
const dirs: string[] = [];

beforeAll(async () => {
  s = await startDeploySandbox();
  gh = await startFakeGitHub();
  KUBE_TOKEN = s.sandbox.token;
  kubeconfig = s.sandbox.kubeconfig;
  expect(kubeconfig).toContain(KUBE_TOKEN);
});
afterAll(async () => {
  await gh?.stop();
  await s?.stop();
  await Promise.all(dirs.map(removeProject));
});

/** A workspace holding a project at `project/`. */
async function workspace(files: Record<string, string>): Promise<string> {
  const prefixed = Object.fromEntries(Object.entries(files).map(([k, v]) => [`project/${k}`, v]));
  const ws = await writeProject(prefixed);
  dirs.push(ws);
  return ws;
}

function pipeline(name: string, port: number, train = 'print("training <b>model</b> done", flush=True)\n') {
  return batchProject(name, 'train >> api', { train: { script: train }, api: { script: httpServer(port, 'ok'), service: { port } } });
}

function annotations(run: ActionRun, kind = 'error'): string[] {
  return run.stdout.split('\n').filter((l) => l.startsWith(`::${kind}`));
}

function prEvent(number: number, action: string, opts: { fork?: boolean; sha?: string } = {}) {
  return {
    action,
    number,
    pull_request: {
      number,
      head: { sha: opts.sha ?? 'feedfacefeedfacefeedfacefeedfacefeedface', repo: { full_name: opts.fork ? 'mallory/iris' : 'acme/iris', fork: opts.fork === true } },
      base: { repo: { full_name: 'acme/iris' } },
    },
  };
}

describe('the action with command: deploy', () => {
  it('deploys a batch and a service stage on push: step groups, prefixed stage logs, summary and outputs', async () => {
    const ws = await workspace(pipeline('push-demo', 5301));
    const run = await runAction({ workspace: ws, inputs: { kubeconfig, 'project-dir': 'project', namespace: 'push-demo', timeout: '90s' } });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^::group::Step 1\/2: train$/m);
    expect(run.stdout).toMatch(/^::group::Step 2\/2: api$/m);
    // Each stage log line exactly once in the whole log (one channel: stage-log.ts).
    const logLines = run.stdout.split('\n');
    expect(logLines.filter((l) => l === '[train] training <b>model</b> done')).toHaveLength(1);
    expect(logLines.filter((l) => l.includes('training <b>model</b> done'))).toHaveLength(1);
    // The service's pods are followed until ready, with a last read then: its start-up line, printed before it
    // listens, shows exactly once.
    expect(logLines.filter((l) => l.includes('serving on 5301'))).toHaveLength(1);
    for (const text of [run.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n'), run.stderr, run.summary, run.outputFile]) expect(text).not.toContain(KUBE_TOKEN);
    expect(annotations(run)).toEqual([]);

    expect(run.outputs.status).toBe('success');
    expect(run.outputs.namespace).toBe('push-demo');
    const stages = JSON.parse(run.outputs.stages) as Record<string, unknown>[];
    expect(stages.map((x) => [x.stage, x.type, x.step, x.status])).toEqual([
      ['train', 'batch', 1, 'succeeded'],
      ['api', 'service', 2, 'succeeded'],
    ]);
    expect(stages.every((x) => !('logTail' in x))).toBe(true);
    expect(JSON.parse(run.outputs['service-urls'])).toEqual({ api: 'http://api.push-demo.svc.cluster.local:5301' });
    expect(run.outputs.url).toBe('http://api.push-demo.svc.cluster.local:5301');

    const sum = run.summary;
    expect(sum).toContain('## ✅ Bodywork deploy: push-demo succeeded');
    expect(sum).toContain('<tr><td>Namespace</td><td><code>push-demo</code></td></tr>');
    expect(sum).toContain('<tr><td>Commit</td><td><code>0123456789ab</code></td></tr>');
    expect(sum).toContain('<tr><td>Trigger</td><td><code>push</code></td></tr>');
    expect(sum).toContain('https://github.com/acme/iris/actions/runs/4242');
    // The DAG and the timeline as Mermaid diagrams (rendered through Chromium in mermaid.test.ts).
    expect(sum).toContain('### DAG\n\n```mermaid\nflowchart LR\n  subgraph step0["Step 1"]\n    s0["train<br>succeeded, ');
    expect(sum).toContain('  s0 --> s1\n  classDef succeeded ');
    expect(sum).toContain('  class s0,s1 succeeded\n```\n');
    expect(sum).toMatch(/### Timeline\n\n```mermaid\n%%{init: [^\n]*}%%\ngantt\n[^`]*section Step 1\n {2}#116;rain #40;succeeded#41; : done, t0, \d+, \d+\n/);
    expect(sum).toMatch(/<tr><td>1<\/td><td><code>train<\/code><\/td><td>batch<\/td><td>✅ succeeded<\/td><td>1<\/td><td>\d+s<\/td><td><\/td><\/tr>/);
    expect(sum).toMatch(/<tr><td>2<\/td><td><code>api<\/code><\/td><td>service<\/td><td>✅ succeeded<\/td><td>1<\/td>/);
    expect(sum).toContain(
      '<tr><td><code>api</code></td><td>1/1</td><td><code>http://api.push-demo.svc.cluster.local:5301</code></td><td><code>http://localhost:8001/api/v1/namespaces/push-demo/services/api:5301/proxy/</code></td></tr>',
    );
    expect(sum).not.toContain('<details>');
    expect(sum).not.toContain('<th></th>');

    const dep = await s.client.get<V1Deployment>('Deployment', 'push-demo', 'api');
    expect(dep.status?.readyReplicas).toBe(1);
  });

  it('deploys with code-source: git, cloning GITHUB_SHA of the repository with the git-token stored as a masked Secret', async () => {
    const GIT_TOKEN = 'gt-Qm4Zp8Rw2Yx6Vn1K';
    const ws = await workspace(batchProject('git-demo', 'train', { train: { script: 'print("committed code", flush=True)\n' } }));
    const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd, encoding: 'utf8' }).trim();
    git(ws, 'init', '-q');
    git(ws, 'add', 'project');
    git(ws, 'commit', '-q', '-m', 'pipeline');
    const sha = git(ws, 'rev-parse', 'HEAD');
    // The "server": GITHUB_SERVER_URL/GITHUB_REPOSITORY.git is a bare clone on this machine.
    const { server } = await serveGitRepository(ws, 'acme/iris.git');
    dirs.push(server);
    writeFileSync(join(ws, 'project', 'train', 'main.py'), 'print("working tree", flush=True)\n');
    const run = await runAction({
      workspace: ws,
      env: { GITHUB_SERVER_URL: `file://${server}`, GITHUB_SHA: sha },
      inputs: { kubeconfig, 'project-dir': 'project', 'code-source': 'git', 'git-token': GIT_TOKEN, timeout: '90s' },
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('[train] committed code');
    expect(run.stdout).not.toContain('working tree');
    expect(run.stdout).toContain(`::add-mask::${GIT_TOKEN}`);
    for (const text of [run.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n'), run.stderr, run.summary, run.outputFile]) expect(text).not.toContain(GIT_TOKEN);
    const secret = await s.client.get<V1Secret>('Secret', 'git-demo', 'bodywork-git-token');
    expect(Buffer.from(secret.data?.token ?? '', 'base64').toString()).toBe(GIT_TOKEN);
    const configMaps = await s.client.list('ConfigMap', 'git-demo');
    expect(configMaps.items.filter((c) => c.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'bodywork-deploy')).toEqual([]);
  });

  it('fails with one error line naming the stage and why, and the escaped log tail in the summary', async () => {
    const script = ['print("loading <img src=x onerror=alert(1)> **not bold** | pipe", flush=True)', 'raise SystemExit("model accuracy 0.2 < 0.9")', ''].join('\n');
    const ws = await workspace(batchProject('fail-demo', 'train >> api', { train: { script }, api: { script: httpServer(5302, 'ok'), service: { port: 5302 } } }));
    const run = await runAction({ workspace: ws, inputs: { kubeconfig, 'project-dir': 'project', timeout: '90s' } });
    expect(run.status).toBe(1);
    const errors = annotations(run);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^::error::bodywork-deploy: stage 'train' \(step 1\) failed: .+/);
    expect(run.outputs.status).toBe('failure');
    const stages = JSON.parse(run.outputs.stages) as { stage: string; status: string }[];
    expect(stages.map((x) => [x.stage, x.status])).toEqual([
      ['train', 'failed'],
      ['api', 'skipped'],
    ]);
    expect(run.outputs.url).toBe('');

    const sum = run.summary;
    expect(sum).toContain('## ❌ Bodywork deploy: fail-demo failed');
    expect(sum).toMatch(/\*\*Failure:\*\* stage &#39;train&#39; \(step 1\) failed: /);
    // Failure first, the log lines open, then the tables; the skipped service is neither repeated nor listed as reachable.
    const logs = sum.indexOf('### Last log lines of <code>train</code> (failed)\n\n<pre>');
    expect(logs).toBeGreaterThan(sum.indexOf('**Failure:**'));
    expect(sum.indexOf('### Stages')).toBeGreaterThan(logs);
    expect(sum).not.toContain('<details>');
    expect(sum).toMatch(/<td><code>api<\/code><\/td><td>service<\/td><td>⏭️ skipped<\/td>/);
    expect(sum).not.toContain('### Services');
    expect(sum).toContain('loading &lt;img src=x onerror=alert(1)&gt; &#42;&#42;not bold&#42;&#42; &#124; pipe');
    expect(sum).toContain('model accuracy 0.2 &lt; 0.9');
    expect(sum).not.toContain('<img');
    expect(sum).not.toContain('**not bold**');
  });

  it('masks the kubeconfig token and the secrets values before logging anything, even with step debug on', async () => {
    const script = [
      'import hashlib, os',
      'print("secret sha256", hashlib.sha256(os.environ["DB_PASSWORD"].encode()).hexdigest(), flush=True)',
      '',
    ].join('\n');
    const ws = await workspace(batchProject('mask-demo', 'train', { train: { script, secrets: { DB_PASSWORD: 'db-creds' } } }));
    const run = await runAction({
      workspace: ws,
      inputs: {
        kubeconfig: Buffer.from(kubeconfig).toString('base64'),
        'project-dir': 'project',
        secrets: `db-creds.DB_PASSWORD=${SECRET_VALUE}\ndb-creds.USER=ml-user-01\n`,
      },
      env: { ACTIONS_STEP_DEBUG: 'true', RUNNER_DEBUG: '1' },
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    // The stage got the value (it printed only its hash).
    expect(run.stdout).toContain(`[train] secret sha256 ${createHash('sha256').update(SECRET_VALUE).digest('hex')}`);
    expect(run.stdout).toMatch(/^::debug::GET \/api\/v1\/namespaces/m);
    const masks = run.stdout.split('\n').filter((l) => l.startsWith('::add-mask::'));
    expect(masks).toContain(`::add-mask::${KUBE_TOKEN}`);
    expect(masks).toContain(`::add-mask::${SECRET_VALUE}`);
    const firstMask = run.stdout.indexOf('::add-mask::');
    const lastMask = run.stdout.lastIndexOf('::add-mask::');
    const beforeMasks = run.stdout.slice(0, firstMask);
    expect(beforeMasks).toBe('');
    // Every mask comes before the first other line.
    expect(run.stdout.slice(0, run.stdout.indexOf('\n', lastMask) + 1).split('\n').filter((l) => l !== '' && !l.startsWith('::add-mask::'))).toEqual([]);
    const unmasked = [run.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n'), run.stderr, run.summary, run.outputFile];
    for (const text of unmasked) {
      expect(text).not.toContain(KUBE_TOKEN);
      expect(text).not.toContain(SECRET_VALUE);
    }

    const secret = await s.client.get<V1Secret>('Secret', 'mask-demo', 'db-creds');
    expect(secret.type).toBe('Opaque');
    expect(secret.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('bodywork-deploy');
    expect(Buffer.from(secret.data?.DB_PASSWORD ?? '', 'base64').toString()).toBe(SECRET_VALUE);

    // The kubeconfig was written 0600 under RUNNER_TEMP; the post step deletes it.
    const file = run.state['kubeconfig-path'];
    expect(file.startsWith(run.runnerTemp)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // The runner gives the post step the same RUNNER_TEMP.
    const post = await runAction({ entry: 'post', workspace: ws, inputs: {}, env: { RUNNER_TEMP: run.runnerTemp, 'STATE_kubeconfig-path': file } });
    expect(post.status, post.stderr).toBe(0);
    expect(post.stdout).toContain(`deleted the kubeconfig file ${file}`);
    expect(existsSync(file)).toBe(false);
  });

  it('re-deploys a scheduled run into the base namespace idempotently; prune follows the input; command: teardown removes it', async () => {
    const ws = await workspace(pipeline('nightly', 5303));
    const runs: ActionRun[] = [];
    for (const id of ['5001', '5002']) {
      runs.push(await runAction({ workspace: ws, runId: id, event: { name: 'schedule', payload: { schedule: '0 * * * *' } }, inputs: { kubeconfig, 'project-dir': 'project', timeout: '90s' } }));
    }
    for (const run of runs) {
      expect(run.status, run.stdout + run.stderr).toBe(0);
      expect(run.outputs.namespace).toBe('nightly');
      expect(run.summary).toContain('<tr><td>Trigger</td><td><code>schedule (scheduled run)</code></td></tr>');
    }
    expect(runs[1].stdout).toContain('namespace=nightly already exists');
    const deployments = await s.client.list<V1Deployment>('Deployment', 'nightly');
    expect(deployments.items.map((d) => [d.metadata?.name, d.status?.readyReplicas, d.spec?.template.metadata?.annotations?.['bodywork.dev/run-id']])).toEqual([
      ['api', 1, expect.stringMatching(/^5002-1-[0-9a-f]{4}$/)],
    ]);
    // The engine keeps the last run's Job (as history) and deletes earlier runs' ones.
    const jobs = await s.client.list('Job', 'nightly');
    expect(jobs.items.filter((j) => !j.metadata?.deletionTimestamp).map((j) => j.metadata?.name)).toEqual([expect.stringMatching(/^train-5002-1-[0-9a-f]{4}$/)]);

    // A stage dropped from the DAG: prune: false keeps its objects, the default prune deletes them.
    const trainOnly = batchProject('nightly', 'train', { train: { script: 'print("training")\n' } });
    writeFileSync(join(ws, 'project', 'bodywork.yaml'), trainOnly['bodywork.yaml']);
    const kept = await runAction({ workspace: ws, runId: '5003', inputs: { kubeconfig, 'project-dir': 'project', prune: 'false', 'lock-timeout': '1m', 'keep-jobs': '0' } });
    expect(kept.status, kept.stdout + kept.stderr).toBe(0);
    expect(await s.client.exists('Deployment', 'nightly', 'api')).toBe(true);
    // keep-jobs: 0 deleted every finished Job of the stage after its step.
    const afterKeep0 = await s.client.list('Job', 'nightly');
    expect(afterKeep0.items.filter((j) => !j.metadata?.deletionTimestamp)).toEqual([]);
    // The same GITHUB_RUN_ID: two steps of one job deploying the same project get distinct Jobs.
    const pruned = await runAction({ workspace: ws, runId: '5003', inputs: { kubeconfig, 'project-dir': 'project' } });
    expect(pruned.status, pruned.stdout + pruned.stderr).toBe(0);
    expect(await s.client.exists('Deployment', 'nightly', 'api')).toBe(false);

    // command: teardown deletes the namespace it created.
    const td = await runAction({ workspace: ws, inputs: { kubeconfig, 'project-dir': 'project', command: 'teardown' } });
    expect(td.status, td.stdout + td.stderr).toBe(0);
    expect(td.outputs).toMatchObject({ status: 'success', namespace: 'nightly' });
    expect(td.stdout).toContain('deleted namespace=nightly');
    expect(await s.client.exists('Namespace', undefined, 'nightly')).toBe(false);
  });

  it('stops on the runner\'s cancel (SIGINT): the running stage is cancelled, its Job deleted, the step fails', async () => {
    const script = ['import time', 'print("training started", flush=True)', 'time.sleep(120)', ''].join('\n');
    const ws = await workspace(batchProject('cancel-demo', 'train >> api', { train: { script, maxSeconds: 300 }, api: { script: httpServer(5308, 'ok'), service: { port: 5308 } } }));
    const run = await runAction({ workspace: ws, inputs: { kubeconfig, 'project-dir': 'project' }, interrupt: { when: /\[train\] training started/, signal: 'SIGINT' } });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('SIGINT: cancelling the deployment');
    expect(annotations(run)).toEqual([expect.stringMatching(/^::error::bodywork-deploy: stage 'train' \(step 1\) cancelled: the workflow run was cancelled \(SIGINT\)/)]);
    expect(run.outputs.status).toBe('failure');
    expect(run.summary).toContain('⛔ cancelled');
    const jobs = await s.client.list('Job', 'cancel-demo');
    expect(jobs.items.filter((j) => !j.metadata?.deletionTimestamp)).toEqual([]);
    expect(await s.client.exists('Deployment', 'cancel-demo', 'api')).toBe(false);
  });

  it('writes nothing to the cluster when the config is broken, and annotates the lines', async () => {
    const files = pipeline('broken-demo', 5304);
    files['bodywork.yaml'] = files['bodywork.yaml'].replace('replicas: 1', 'replicas: two').replace('port: 5304', 'port: 70000');
    const ws = await workspace(files);
    const before = (await s.client.list('Namespace', undefined)).items.map((n) => n.metadata?.name);
    const run = await runAction({ workspace: ws, inputs: { kubeconfig, 'project-dir': 'project' } });
    expect(run.status).toBe(1);
    const errors = annotations(run);
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(/^::error title=Bodywork config,file=project\/bodywork.yaml,line=\d+.*::.*replicas/);
    expect(errors[1]).toMatch(/^::error title=Bodywork config,file=project\/bodywork.yaml,line=\d+.*::.*port/);
    expect(errors[2]).toBe('::error::bodywork-deploy: 2 configuration problems in project; nothing was deployed');
    const lines = files['bodywork.yaml'].split('\n');
    expect(errors[0]).toContain(`line=${lines.findIndex((l) => l.includes('replicas: two')) + 1}`);
    expect(errors[1]).toContain(`line=${lines.findIndex((l) => l.includes('port: 70000')) + 1}`);
    // Each problem is a log line too, `path:line:col: message`, the path from the workspace.
    const replicasLine = lines.findIndex((l) => l.includes('replicas: two')) + 1;
    const portLine = lines.findIndex((l) => l.includes('port: 70000')) + 1;
    expect(run.stdout).toMatch(new RegExp(`^project/bodywork\\.yaml:${replicasLine}:\\d+: .*replicas`, 'm'));
    expect(run.stdout).toMatch(new RegExp(`^project/bodywork\\.yaml:${portLine}:\\d+: .*port`, 'm'));
    // The summary lists both, linked to their lines at the commit.
    const blob = 'https://github.com/acme/iris/blob/0123456789abcdef0123456789abcdef01234567/project/bodywork.yaml';
    expect(run.summary).toContain('## ❌ Bodywork deploy: configuration problems in <code>project</code>');
    expect(run.summary).toContain(`<a href="${blob}&#35;L${replicasLine}">`);
    expect(run.summary).toContain(`<a href="${blob}&#35;L${portLine}">`);
    expect((await s.client.list('Namespace', undefined)).items.map((n) => n.metadata?.name)).toEqual(before);
    expect(await s.client.exists('Namespace', undefined, 'broken-demo')).toBe(false);
  });
});

describe('PR previews', () => {
  it('deploys a PR into <namespace>-pr-<n>, keeps one comment updated, and tears it down on close', async () => {
    const ws = await workspace(pipeline('preview-demo', 5305));
    const inputs = {
      kubeconfig,
      'project-dir': 'project',
      namespace: 'iris',
      timeout: '90s',
      'github-token': 'ghs_fakeTokenForTests123',
      'public-url': 'https://{namespace}.preview.example.com/{service}',
    };
    const env = { GITHUB_API_URL: gh.url };
    const opened = await runAction({ workspace: ws, inputs, env, runId: '7001', event: { name: 'pull_request', payload: prEvent(7, 'opened', { sha: 'a'.repeat(40) }) } });
    expect(opened.status, opened.stdout + opened.stderr).toBe(0);
    expect(opened.outputs.namespace).toBe('iris-pr-7');
    expect(opened.outputs.url).toBe('https://iris-pr-7.preview.example.com/api');
    expect(JSON.parse(opened.outputs['service-urls'])).toEqual({ api: 'https://iris-pr-7.preview.example.com/api' });
    expect(await s.client.exists('Deployment', 'iris-pr-7', 'api')).toBe(true);
    expect(await s.client.exists('Namespace', undefined, 'iris')).toBe(false);
    expect(gh.comments).toHaveLength(1);
    expect(gh.comments[0].issue).toBe(7);
    expect(gh.comments[0].body.startsWith('<!-- bodywork-deploy:iris-pr-7 -->\n')).toBe(true);
    expect(gh.comments[0].body).toContain('✅ Bodywork preview: <code>iris-pr-7</code> deployed');
    expect(gh.comments[0].body).toContain('<a href="https://iris-pr-7.preview.example.com/api">');
    // The same pictures as the summary (mermaid.test.ts renders them).
    expect(gh.comments[0].body).toContain('#### DAG\n\n```mermaid\nflowchart LR\n');
    expect(gh.comments[0].body).toMatch(/#### Timeline\n\n```mermaid\n%%{init: [^\n]*}%%\ngantt\n/);
    expect(gh.deployments).toHaveLength(1);
    expect(gh.deployments[0]).toMatchObject({ ref: 'a'.repeat(40), environment: 'iris-pr-7', transient_environment: true });
    expect(gh.deployments[0].statuses.map((x) => x.state)).toEqual(['in_progress', 'success']);
    expect(gh.deployments[0].statuses[1]).toMatchObject({ environment_url: 'https://iris-pr-7.preview.example.com/api', log_url: 'https://github.com/acme/iris/actions/runs/7001' });
    expect(gh.calls.every((c) => c.authorization === 'token ghs_fakeTokenForTests123')).toBe(true);

    // A comment of someone else's stays alone.
    gh.comments.push({ id: 1, issue: 7, body: 'LGTM' });
    const sync = await runAction({ workspace: ws, inputs, env, runId: '7002', event: { name: 'pull_request', payload: prEvent(7, 'synchronize', { sha: 'b'.repeat(40) }) } });
    expect(sync.status, sync.stdout + sync.stderr).toBe(0);
    expect(gh.comments.filter((c) => c.body.includes('bodywork-deploy:iris-pr-7'))).toHaveLength(1);
    expect(gh.comments.find((c) => c.id === 1)?.body).toBe('LGTM');
    expect(gh.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/issues/7/comments'))).toHaveLength(1);
    expect(gh.calls.filter((c) => c.method === 'PATCH' && c.path.includes('/issues/comments/'))).toHaveLength(1);
    expect(gh.deployments.map((d) => d.ref)).toEqual(['a'.repeat(40), 'b'.repeat(40)]);
    const dep = await s.client.get<V1Deployment>('Deployment', 'iris-pr-7', 'api');
    expect(dep.spec?.template.metadata?.annotations?.['bodywork.dev/run-id']).toMatch(/^7002-1-[0-9a-f]{4}$/);

    const closed = await runAction({ workspace: ws, inputs, env, runId: '7003', event: { name: 'pull_request', payload: prEvent(7, 'closed', { sha: 'b'.repeat(40) }) } });
    expect(closed.status, closed.stdout + closed.stderr).toBe(0);
    expect(closed.stdout).not.toMatch(/::group::Step/);
    expect(await s.client.exists('Namespace', undefined, 'iris-pr-7')).toBe(false);
    for (const d of gh.deployments) expect(d.statuses.at(-1)?.state).toBe('inactive');
    expect(gh.deployments).toHaveLength(2);
    const ours = gh.comments.filter((c) => c.body.includes('bodywork-deploy:iris-pr-7'));
    expect(ours).toHaveLength(1);
    expect(ours[0].body).toContain('torn down');
    expect(closed.summary).toContain('pull request &#35;7 was closed: deleted namespace=iris-pr-7');
  });

  it('refuses a fork PR on pull_request_target unless allow-forks, explaining the risk', async () => {
    const ws = await workspace(pipeline('fork-demo', 5306));
    const run = await runAction({ workspace: ws, inputs: { kubeconfig, 'project-dir': 'project' }, event: { name: 'pull_request_target', payload: prEvent(9, 'opened', { fork: true }) } });
    expect(run.status).toBe(1);
    const errors = annotations(run);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('refusing to deploy pull request #9 from the fork mallory/iris on pull_request_target');
    expect(errors[0]).toContain('allow-forks: true');
    expect(await s.client.exists('Namespace', undefined, 'fork-demo-pr-9')).toBe(false);
  });

  it('deploys a fork PR on pull_request_target with allow-forks: true', async () => {
    const ws = await workspace(batchProject('fork-ok', 'train', { train: { script: 'print("hi")\n' } }));
    const run = await runAction({ workspace: ws, inputs: { kubeconfig, 'project-dir': 'project', 'allow-forks': 'true' }, event: { name: 'pull_request_target', payload: prEvent(11, 'opened', { fork: true }) } });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.outputs.namespace).toBe('fork-ok-pr-11');
    expect(await s.client.exists('Namespace', undefined, 'fork-ok-pr-11')).toBe(true);
  });

  it.each([
    ['auto', 'pull_request', 'iris-pr-3'],
    ['false', 'pull_request', 'iris'],
    ['auto', 'push', 'iris'],
    ['true', 'pull_request_target', 'iris-pr-3'],
  ])('preview: %s on %s plans into %s', async (preview, event, namespace) => {
    const ws = await workspace(pipeline('ns-demo', 5309));
    const run = await runAction({ workspace: ws, inputs: { command: 'plan', 'project-dir': 'project', namespace: 'iris', preview }, event: { name: event, payload: event === 'push' ? {} : prEvent(3, 'opened') } });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.outputs.namespace).toBe(namespace);
    expect(run.summary).toContain(`<tr><td>Namespace</td><td><code>${namespace}</code></td></tr>`);
  });

  it('fails preview: true on an event without a pull request', async () => {
    const ws = await workspace(pipeline('ns-demo2', 5310));
    const run = await runAction({ workspace: ws, inputs: { command: 'plan', 'project-dir': 'project', preview: 'true' }, event: { name: 'push' } });
    expect(run.status).toBe(1);
    expect(annotations(run)).toEqual(["::error::bodywork-deploy: preview: true needs a pull_request or pull_request_target event with a pull request in its payload (this run's event: push)"]);
  });

  it('says that forks get no secrets when a fork PR has no kubeconfig', async () => {
    const ws = await workspace(pipeline('fork-demo2', 5307));
    const run = await runAction({ workspace: ws, inputs: { kubeconfig: '', 'project-dir': 'project' }, event: { name: 'pull_request', payload: prEvent(10, 'opened', { fork: true }) } });
    expect(run.status).toBe(1);
    expect(annotations(run)).toEqual([expect.stringMatching(/^::error::bodywork-deploy: no kubeconfig: pull request #10 comes from the fork mallory\/iris, and GitHub does not pass secrets to pull_request workflows from forks/)]);
    expect(run.summary).toMatch(/^## ❌ Bodywork deploy failed\n\nno kubeconfig: pull request &#35;10 comes from the fork mallory\/iris/);
    expect(run.outputs.status).toBe('failure');
  });
});

describe('the post step', () => {
  it('does nothing when no kubeconfig file was written', async () => {
    const ws = await workspace({});
    const marker = join(ws, 'keep');
    writeFileSync(marker, 'x');
    const post = await runAction({ entry: 'post', workspace: ws, inputs: {} });
    expect(post.status).toBe(0);
    expect(post.stdout).not.toContain('deleted');
    expect(existsSync(marker)).toBe(true);
  });
});
