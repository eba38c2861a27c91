/**
 * Workflow-command injection: untrusted text (stage logs, stage names, failure reasons, config problems) in the
 * action's output must never become a workflow command when the whole output is read by the runner's rules
 * (support/workflow-commands.ts). End to end against the sandbox, as the runner runs the action.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { useDeploySandbox, writeProject } from '../engine/deploy/helpers.js';
import { foreignCommands, parseWorkflowOutput, type WorkflowCommand } from './support/workflow-commands.js';
import { runAction, type ActionRun } from './support/run-action.js';

const s = useDeploySandbox();
const dirs = s.dirs;

async function workspace(files: Record<string, string>): Promise<string> {
  const ws = await writeProject(Object.fromEntries(Object.entries(files).map(([k, v]) => [`project/${k}`, v])));
  dirs.push(ws);
  return ws;
}

/** The kubeconfig's values (and their lines): what the action masks itself. */
function credentials(): Set<string> {
  const values = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') for (const x of [v, ...v.split('\n')]) values.add(x.trim());
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(parse(s.sandbox.kubeconfig));
  return values;
}

/** What the action issues itself: groups, masks of credentials, debug lines, its own failure line and config annotations. */
function ours(c: WorkflowCommand): boolean {
  const name = c.command.toLowerCase();
  if (name === 'add-mask') return c.data.length >= 4 && credentials().has(c.data);
  if (name === 'group' || name === 'endgroup' || name === 'debug') return !c.data.includes('##[');
  if (name === 'error' || name === 'warning') return c.data.startsWith('bodywork-deploy: ') || c.properties.title === 'Bodywork config';
  return false;
}

/** Every command in stdout and stderr that the action did not mean to issue (none expected). */
function injected(run: ActionRun): WorkflowCommand[] {
  const out: WorkflowCommand[] = [];
  for (const text of [run.stdout, run.stderr]) {
    const parsed = parseWorkflowOutput(text);
    expect(parsed.stoppedAtEnd).toBe(false);
    out.push(...foreignCommands(parsed, ours));
    // The legacy form inside our own commands' data would be rendered by the log viewer.
    for (const c of parsed.commands) expect(c.data).not.toMatch(/##\[/);
  }
  return out;
}

const NASTY_STAGE = '##[error]x';

function yamlProject(stage: string, script: string): Record<string, string> {
  const yaml = [
    'version: "1.1"',
    'pipeline:',
    '  name: inject-demo',
    '  docker_image: bodyworkml/bodywork-core:latest',
    `  DAG: ${JSON.stringify(stage)}`,
    'stages:',
    `  ${JSON.stringify(stage)}:`,
    '    executable_module_path: train/main.py',
    '    cpu_request: 0.1',
    '    memory_request_mb: 50',
    '    batch:',
    '      max_completion_time_seconds: 60',
    '      retries: 0',
    'logging:',
    '  log_level: INFO',
    '',
  ].join('\n');
  return { 'bodywork.yaml': yaml, 'train/main.py': script };
}

describe('untrusted text in the action output', () => {
  it('a stage printing workflow commands, named ##[error]x and failing with a multi-line message, issues none', async () => {
    const script = [
      'import sys',
      'print("\\r::set-output name=x::y", flush=True)',
      'print("##[add-mask]x", flush=True)',
      'print("::stop-commands::t", flush=True)',
      'print("::error::after stop", flush=True)',
      'print("::t::", flush=True)',
      'print("text ##[set-output name=z]w", flush=True)',
      'print("a\\r  ::save-state name=s::v", flush=True)',
      'sys.stdout.write("progress 10%\\r::warning::half\\r")',
      'sys.stdout.flush()',
      'raise SystemExit("line one\\n::set-output name=m::n\\n##[error]exit")',
      '',
    ].join('\n');
    const ws = await workspace(yamlProject(NASTY_STAGE, script));
    const run = await runAction({ workspace: ws, inputs: { kubeconfig: s.sandbox.kubeconfig, 'project-dir': 'project', namespace: 'inject-demo', timeout: '90s' } });
    expect(run.status).toBe(1);
    // The stage ran and its lines are in the log, as text.
    expect(run.stdout).toContain('set-output name=x::y');
    expect(run.stdout).toContain('add-mask]x');
    expect(injected(run)).toEqual([]);
    expect(run.outputs).not.toHaveProperty('x');
    expect(run.outputs.status).toBe('failure');
  });

  it('config problems (more than 10, multi-line INI values) issue no command but their annotations', async () => {
    // Continuation lines make multi-line values.
    const bad = (i: number) => `::set-output name=p${i}::q\n  ::stop-commands::t`;
    const files: Record<string, string> = {
      'bodywork.ini': ['[default]', 'PROJECT_NAME="broken-inject"', 'DOCKER_IMAGE="bodyworkml/bodywork-core:latest"', '', '[workflow]', 'DAG="s-1 >> s-2 >> s-3"', '', '[logging]', 'LOG_LEVEL="INFO"', ''].join('\n'),
    };
    for (const stage of ['s-1', 's-2', 's-3']) {
      files[`${stage}/main.py`] = 'print(1)\n';
      files[`${stage}/requirements.txt`] = ''; // Bodywork required one; without it each stage adds a warning
      files[`${stage}/config.ini`] = ['[default]', 'STAGE_TYPE="batch"', 'EXECUTABLE_SCRIPT="main.py"', `CPU_REQUEST=${bad(1)}`, `MEMORY_REQUEST_MB=${bad(2)}`, '', '[batch]', `MAX_COMPLETION_TIME_SECONDS=${bad(3)}`, `RETRIES=${bad(4)}`, ''].join('\n');
    }
    const ws = await workspace(files);
    const run = await runAction({ workspace: ws, inputs: { kubeconfig: s.sandbox.kubeconfig, 'project-dir': 'project' } });
    expect(run.status).toBe(1);
    const parsed = parseWorkflowOutput(run.stdout);
    expect(parsed.commands.filter((c) => c.properties.title === 'Bodywork config' && c.command === 'error')).toHaveLength(10);
    expect(injected(run)).toEqual([]);
    // Every problem is also a plain log line `path:line: message` (past the 10th, only that), each on one line.
    expect(run.stdout).toMatch(/^project\/s-3\/config\.ini:\d+: RETRIES must be [^\n]*got [^\n]*set-output name=p4::q[^\n]*stop-commands::t[^\n]*$/m);
    expect(run.stdout.match(/^project\/s-\d\/config\.ini:\d+: /gm)?.length).toBeGreaterThanOrEqual(12);
    // The summary lists them (a file the runner renders, never parses for commands).
    expect(run.summary).toContain('## ❌ Bodywork deploy: configuration problems in <code>project</code>');
    expect(await s.client.exists('Namespace', undefined, 'broken-inject')).toBe(false);
  });

  it('a fork PR on pull_request_target is refused before its project is read', async () => {
    const ws = await workspace({ 'bodywork.yaml': 'pipeline: [::set-output name=f::g\n' });
    const payload = {
      action: 'opened',
      number: 9,
      pull_request: { number: 9, head: { sha: 'f'.repeat(40), repo: { full_name: 'mallory/iris', fork: true } }, base: { repo: { full_name: 'acme/iris' } } },
    };
    const run = await runAction({ workspace: ws, inputs: { kubeconfig: s.sandbox.kubeconfig, 'project-dir': 'project' }, event: { name: 'pull_request_target', payload } });
    expect(run.status).toBe(1);
    const errors = parseWorkflowOutput(run.stdout).commands.filter((c) => c.command === 'error');
    expect(errors.map((c) => c.data)).toEqual([expect.stringContaining('refusing to deploy pull request #9 from the fork mallory/iris')]);
    expect(injected(run)).toEqual([]);
  });
});
