/** Runs the action the way the runner does: INPUT_* variables, GITHUB_* files, an event payload, the real @actions/core. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

export const root = join(import.meta.dirname, '..', '..', '..');

/** The bundles under test: the committed dist/, or another build of them (`node scripts/build.mjs --out DIR`) named by BODYWORK_DIST. */
export const distDir = process.env.BODYWORK_DIST || join(root, 'dist');

export interface ActionRun {
  status: number;
  stdout: string;
  stderr: string;
  summary: string;
  /** The GITHUB_OUTPUT file, raw. */
  outputFile: string;
  outputs: Record<string, string>;
  /** The GITHUB_STATE file, parsed (what the post step gets as STATE_* variables). */
  state: Record<string, string>;
  runnerTemp: string;
}

export interface RunOptions {
  entry?: 'source' | 'bundle' | 'post';
  inputs: Record<string, string>;
  workspace: string;
  event?: { name: string; payload?: unknown };
  env?: Record<string, string>;
  /** Variables the runner would set that this run goes without (GITHUB_STEP_SUMMARY on an old runner). */
  unset?: string[];
  runId?: string;
  /** Sends `signal` to the action once its stdout matches `when` (the runner cancelling a step). */
  interrupt?: { when: RegExp; signal: NodeJS.Signals };
}

/** `name<<delimiter\nvalue\ndelimiter` records, as @actions/core writes GITHUB_OUTPUT and GITHUB_STATE. */
export function parseCommandFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const m of text.matchAll(re)) out[m[1]] = m[3];
  return out;
}

export function runAction(opts: RunOptions): Promise<ActionRun> {
  const dir = mkdtempSync(join(tmpdir(), 'action-run-'));
  const runnerTemp = mkdtempSync(join(tmpdir(), 'action-runner-temp-'));
  const files = { summary: join(dir, 'summary.md'), output: join(dir, 'output.txt'), state: join(dir, 'state.txt'), event: join(dir, 'event.json') };
  for (const f of [files.summary, files.output, files.state]) writeFileSync(f, '');
  writeFileSync(files.event, JSON.stringify(opts.event?.payload ?? {}));
  const home = mkdtempSync(join(tmpdir(), 'action-home-'));
  // RUNNER_TEMP outlives the run (a test may look into it, or hand it to the post step): it goes with the test.
  onTestFinished(() => rmSync(runnerTemp, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home, // no ~/.kube/config unless a test writes one
    GITHUB_WORKSPACE: opts.workspace,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_OUTPUT: files.output,
    GITHUB_STATE: files.state,
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_EVENT_NAME: opts.event?.name ?? 'push',
    GITHUB_EVENT_PATH: files.event,
    GITHUB_RUN_ID: opts.runId ?? '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'http://127.0.0.1:9/unreachable',
    GITHUB_REPOSITORY: 'acme/iris',
    RUNNER_TEMP: runnerTemp,
    ...opts.env,
  };
  for (const name of opts.unset ?? []) delete env[name];
  for (const [name, value] of Object.entries(opts.inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  const entry = opts.entry ?? 'source';
  const args =
    entry === 'bundle'
      ? [join(distDir, 'index.js')]
      : ['--import', import.meta.resolve('tsx'), join(root, 'src', 'action', entry === 'post' ? 'post.ts' : 'index.ts')];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, cwd: opts.workspace, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (opts.interrupt && !interrupted && opts.interrupt.when.test(stdout)) {
        interrupted = true;
        child.kill(opts.interrupt.signal);
      }
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const outputFile = readFileSync(files.output, 'utf8');
      resolve({
        status: code ?? 1,
        stdout,
        stderr,
        summary: readFileSync(files.summary, 'utf8'),
        outputFile,
        outputs: parseCommandFile(outputFile),
        state: parseCommandFile(readFileSync(files.state, 'utf8')),
        runnerTemp,
      });
      // What the runner's files held is read: they go (a full run leaves thousands of these otherwise).
      for (const d of [dir, home]) rmSync(d, { recursive: true, force: true });
    });
  });
}
