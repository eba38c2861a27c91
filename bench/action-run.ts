/**
 * The action bundle run from outside, as the runner runs it (INPUT_* variables, GITHUB_* files), under GNU time for
 * its peak RSS and CPU. Its stdout is read line by line (a 100 MB stage log is never held), and the request counts
 * come from its own debug line (`API requests by verb: {...}`, src/action/main.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseCommandFile } from '../test/action/support/run-action.js';

const root = resolve(import.meta.dirname, '..');
const TIME = '/usr/bin/time';

export interface BundleRun {
  status: number;
  wallMs: number;
  /** GNU time's %M and %U + %S (undefined without /usr/bin/time). */
  maxRssKb?: number;
  cpuMs?: number;
  summaryBytes: number;
  requests: Record<string, number>;
  outputs: Record<string, string>;
  /** The last lines of stdout and stderr, for a failure's message. */
  tail: string[];
}

export interface BundleRunOptions {
  /** A built dist/ (the committed one, or `scripts/build.mjs --out DIR`). */
  dist: string;
  kubeconfig: string;
  /** The checked-out repository; `projectDir` is relative to it. */
  workspace: string;
  projectDir: string;
  inputs?: Record<string, string>;
  /** Each stdout line, as it arrives. */
  onLine?: (line: string) => void;
  /** Node options for the action's process (BENCH_NODE_ARGS, space-separated, e.g. a heap limit to tell retention from lazy GC). */
  nodeArgs?: string[];
  /** Step debug on (RUNNER_DEBUG=1): the action prints each API request as it sends it. */
  debug?: boolean;
  /** An empty Node compile cache of its own (`NODE_COMPILE_CACHE`), as on a fresh hosted runner: every chunk compiled. */
  coldCompileCache?: boolean;
}

export async function runActionBundle(o: BundleRunOptions): Promise<BundleRun> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-action-'));
  const f = { summary: join(dir, 'summary.md'), output: join(dir, 'output'), state: join(dir, 'state'), event: join(dir, 'event.json'), time: join(dir, 'time') };
  for (const file of [f.summary, f.output, f.state]) writeFileSync(file, '');
  writeFileSync(f.event, '{}');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    GITHUB_WORKSPACE: o.workspace,
    GITHUB_STEP_SUMMARY: f.summary,
    GITHUB_OUTPUT: f.output,
    GITHUB_STATE: f.state,
    GITHUB_EVENT_NAME: 'push',
    GITHUB_EVENT_PATH: f.event,
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_RUN_ID: String(Date.now()),
    GITHUB_REPOSITORY: 'acme/bench',
    RUNNER_TEMP: dir,
    ...(o.debug ? { RUNNER_DEBUG: '1' } : {}),
    ...(o.coldCompileCache ? { NODE_COMPILE_CACHE: join(dir, 'node-compile-cache') } : {}),
  };
  for (const [name, value] of Object.entries({ kubeconfig: o.kubeconfig, 'project-dir': o.projectDir, ...o.inputs })) env[`INPUT_${name.toUpperCase()}`] = value;
  const entry = join(o.dist, 'index.js');
  const nodeArgs = o.nodeArgs ?? (process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []);
  const timed = existsSync(TIME);
  const [cmd, args] = timed ? [TIME, ['-f', '%M %U %S', '-o', f.time, process.execPath, ...nodeArgs, entry]] : [process.execPath, [...nodeArgs, entry]];

  const tail: string[] = [];
  const keep = (line: string) => {
    tail.push(line);
    if (tail.length > 30) tail.shift();
  };
  let requests: Record<string, number> = {};
  const t0 = performance.now();
  const child = spawn(cmd, args, { env, cwd: o.workspace, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout = createInterface({ input: child.stdout, crlfDelay: Infinity });
  stdout.on('line', (line) => {
    const m = /^::debug::API requests by verb: (\{.*\})$/.exec(line);
    if (m) requests = JSON.parse(m[1]!) as Record<string, number>;
    o.onLine?.(line);
    keep(line);
  });
  createInterface({ input: child.stderr }).on('line', keep);
  const status = await new Promise<number>((done, fail) => {
    child.on('error', fail);
    child.on('close', (code) => done(code ?? 1));
  });
  const wallMs = performance.now() - t0;
  const [rss, user, sys] = timed ? (/(\d+) ([\d.]+) ([\d.]+)\s*$/.exec(readFileSync(f.time, 'utf8'))?.slice(1).map(Number) ?? []) : [];
  const run: BundleRun = {
    status,
    wallMs,
    ...(rss !== undefined ? { maxRssKb: rss, cpuMs: (user! + sys!) * 1000 } : {}),
    summaryBytes: statSync(f.summary).size,
    requests,
    outputs: parseCommandFile(readFileSync(f.output, 'utf8')),
    tail,
  };
  rmSync(dir, { recursive: true, force: true });
  return run;
}

/** The dist to run: `--dist DIR`, or with `--build` the current sources built into a temporary directory, else dist/. */
export function distFromArgs(argv: string[]): { dist: string; cleanup: () => void } {
  if (argv.includes('--build')) {
    const out = mkdtempSync(join(tmpdir(), 'bench-dist-'));
    process.stderr.write(`building the current sources into ${out}…\n`);
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--out', out], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('build failed');
    return { dist: out, cleanup: () => rmSync(out, { recursive: true, force: true }) };
  }
  const i = argv.indexOf('--dist');
  return { dist: i >= 0 ? resolve(argv[i + 1]!) : join(root, 'dist'), cleanup: () => {} };
}
