import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { distDir } from './support/run-action.js';

const root = join(import.meta.dirname, '..', '..');

/** Runs the action the way the runner does: INPUT_* variables, GITHUB_* files, the real @actions/core. */
function runAction(entry: 'source' | 'bundle', inputs: Record<string, string>, workspace: string) {
  const dir = mkdtempSync(join(tmpdir(), 'action-run-'));
  const files = { summary: join(dir, 'summary.md'), output: join(dir, 'output.txt') };
  for (const f of Object.values(files)) writeFileSync(f, '');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_WORKSPACE: workspace,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_OUTPUT: files.output,
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_RUN_ID: '4242',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'acme/iris',
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  const args = entry === 'bundle' ? [join(distDir, 'index.js')] : ['--import', import.meta.resolve('tsx'), join(root, 'src', 'action', 'index.ts')];
  const result = spawnSync(process.execPath, args, { env, encoding: 'utf8', cwd: workspace });
  const read = { summary: readFileSync(files.summary, 'utf8'), output: readFileSync(files.output, 'utf8') };
  rmSync(dir, { recursive: true, force: true });
  return { ...result, ...read };
}

function workspaceWith(example: string): string {
  const ws = mkdtempSync(join(tmpdir(), 'action-ws-'));
  onTestFinished(() => rmSync(ws, { recursive: true, force: true }));
  cpSync(join(root, 'examples', example), join(ws, 'project'), { recursive: true });
  return ws;
}

describe('the action with command: plan', () => {
  it.each(['source', 'bundle'] as const)('writes the tutorial pipeline plan to the job summary (%s)', (entry) => {
    const ws = workspaceWith('iris-pipeline');
    const run = runAction(entry, { command: 'plan', 'project-dir': 'project', namespace: 'ml-pipeline' }, ws);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.summary).toContain('## Bodywork plan: bodywork-ml-pipeline-project');
    expect(run.summary).toContain('<code>http://bodywork-ml-pipeline-project--stage-2-deploy-scoring-service.ml-pipeline.svc.cluster.local:5000</code>');
    expect(run.summary).toMatch(/Job <code>bodywork-ml-pipeline-project--stage-1-train-model/);
    expect(run.summary).toContain('https://github.com/acme/iris/actions/runs/4242');
    expect(run.output).toMatch(/^namespace<<(.+)\nml-pipeline\n\1\n/);
    // The status output is newer than the committed bundle may be: checked on the source.
    if (entry === 'source') expect(run.output).toMatch(/\nstatus<<(.+)\nsuccess\n\1\n$/);
  });

  it('annotates values Bodywork would have refused as warnings at their file and line, and still plans', () => {
    const ws = workspaceWith('iris-pipeline');
    const config = join(ws, 'project', 'stage-2-deploy-scoring-service', 'config.ini');
    writeFileSync(config, readFileSync(config, 'utf8').replace('STAGE_TYPE="service"', 'STAGE_TYPE="Service"').replace('PORT=5000\n', 'PORT=5000\nINGRESS=yes\n'));
    const run = runAction('source', { command: 'plan', 'project-dir': 'project' }, ws);
    expect(run.status).toBe(0);
    expect(run.stdout.split('\n').filter((l) => l.startsWith('::warning'))).toEqual([
      '::warning title=Bodywork config,file=project/stage-2-deploy-scoring-service/config.ini,line=2::STAGE_TYPE "Service" is read as service; Bodywork accepted only "batch" or "service", in lower case',
      '::warning title=Bodywork config,file=project/stage-2-deploy-scoring-service/config.ini,line=11::INGRESS "yes" is read as True; Bodywork 1 accepted only True or False',
    ]);
    expect(run.summary).toContain('## Bodywork plan: bodywork-ml-pipeline-project');
  });

  it('annotates every config problem at its file and line and fails without a plan', () => {
    const ws = workspaceWith('iris-pipeline');
    const config = join(ws, 'project', 'stage-2-deploy-scoring-service', 'config.ini');
    writeFileSync(config, readFileSync(config, 'utf8').replace('REPLICAS=2', 'REPLICAS=two').replace('PORT=5000', 'PORT=70000'));
    const run = runAction('source', { command: 'plan', 'project-dir': 'project' }, ws);
    expect(run.status).toBe(1);
    const annotations = run.stdout.split('\n').filter((l) => l.startsWith('::error'));
    expect(annotations).toHaveLength(3);
    expect(annotations[0]).toMatch(/^::error title=Bodywork config,file=project\/stage-2-deploy-scoring-service\/config.ini,line=\d+(,col=\d+)?::.*REPLICAS/);
    expect(annotations[1]).toMatch(/file=project\/stage-2-deploy-scoring-service\/config.ini,line=\d+.*::.*PORT/);
    expect(annotations[2]).toBe('::error::bodywork-deploy: 2 configuration problems in project; nothing was deployed');
    expect(run.stdout).toMatch(/^project\/stage-2-deploy-scoring-service\/config\.ini:\d+(:\d+)?: .*REPLICAS/m);
    expect(run.summary).toMatch(/^## ❌ Bodywork plan: configuration problems in <code>project<\/code>\n/);
    expect(run.summary).toMatch(/<a href="https:\/\/github\.com\/acme\/iris\/blob\/0123456789abcdef0123456789abcdef01234567\/project\/stage-2-deploy-scoring-service\/config\.ini&#35;L\d+">/);
  });

  it('lists the stages the pod overrides change and the fields they set, escaped; a refused override is annotated at its line', () => {
    const ws = workspaceWith('iris-pipeline');
    const overrides = join(ws, 'project', 'bodywork-deploy.yaml');
    writeFileSync(overrides, 'stages:\n  stage-1-train-model:\n    container:\n      resources: { limits: { nvidia.com/gpu: 1 } }\n      env: [{ name: "<b>HI</b>", value: x }]\n');
    const run = runAction('source', { command: 'plan', 'project-dir': 'project' }, ws);
    expect(run.status, run.stdout).toBe(0);
    expect(run.summary).toContain('### Pod overrides');
    expect(run.summary).toContain(
      '<tr><td><code>stage-1-train-model</code></td><td>its own entry</td><td><code>container.resources.limits&#91;nvidia.com/gpu&#93;</code><br><code>container.env&#91;&lt;b&gt;HI&lt;/b&gt;&#93;</code></td></tr>',
    );
    expect(run.summary).not.toContain('<b>HI');

    writeFileSync(overrides, 'stages:\n  stage-1-train-model:\n    pod:\n      restartPolicy: OnFailure\n');
    const refused = runAction('source', { command: 'plan', 'project-dir': 'project' }, ws);
    expect(refused.status).toBe(1);
    expect(refused.stdout.split('\n').filter((l) => l.startsWith('::error'))[0]).toMatch(
      /^::error title=Bodywork config,file=project\/bodywork-deploy\.yaml,line=4,col=7::stages\.stage-1-train-model\.pod\.restartPolicy cannot be overridden: the engine sets it/,
    );
  });
});
