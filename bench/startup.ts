/**
 * `npm run bench:startup`: cold start of the bundles as a user meets them. Medians of N runs (default 5) of
 * `node -e 0` (the floor), `bodywork-deploy --version`, `bodywork-deploy validate examples/iris-pipeline`, and the
 * action bundle's time from spawn to its first API request; peak RSS of each (GNU time's %M, when /usr/bin/time
 * exists) and the bundles' sizes (every file of dist/, dist/cli, dist/post: lazily loaded chunks included).
 *
 * The action runs `deploy` against a tiny HTTP server of ours that stamps the first request and answers every
 * request 403, so the action fails at once and exits (its peak RSS then covers start-up, config, plan and client).
 *
 * Usage: npm run bench:startup [-- --runs N] [--dist DIR]...   (several --dist: one column each, e.g. before/after)
 *        npm run bench:startup -- --build   (builds the current sources into a temporary directory first)
 * Timing is only reported, never asserted.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { median, table } from './report.js';

const root = resolve(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const runs = Number(argv[argv.indexOf('--runs') + 1] ?? 5) || 5;
const dists = argv.flatMap((a, i) => (a === '--dist' ? [resolve(argv[i + 1]!)] : []));
const TIME = '/usr/bin/time';
const hasTime = existsSync(TIME);

interface Sample {
  ms: number;
  rssKb?: number;
}

/** Runs `node args` to its exit (through GNU time for peak RSS); `until` may stamp an earlier moment than the exit. */
function runNode(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; until?: Promise<number> } = {}): Promise<Sample> {
  const rssFile = join(tmpdir(), `bench-startup-rss-${process.pid}`);
  const [cmd, cmdArgs] = hasTime ? [TIME, ['-f', '%M', '-o', rssFile, process.execPath, ...args]] : [process.execPath, args];
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const child = spawn(cmd, cmdArgs, { stdio: 'ignore', env: opts.env ?? process.env, cwd: opts.cwd ?? root });
    child.on('error', fail);
    child.on('close', (code) => {
      const exited = performance.now() - t0;
      const rss = hasTime ? Number(/(\d+)\s*$/.exec(readText(rssFile))?.[1]) : undefined;
      // The request came before the exit, or never will.
      if (opts.until) void Promise.race([opts.until, Promise.resolve(NaN)]).then((t) => (Number.isNaN(t) ? fail(new Error(`node ${args.join(' ')} made no API request`)) : done({ ms: t - t0, ...(rss ? { rssKb: rss } : {}) })));
      else if (code !== 0) fail(new Error(`node ${args.join(' ')} exited ${code}`));
      else done({ ms: exited, ...(rss ? { rssKb: rss } : {}) });
    });
  });
}

function readText(file: string): string {
  try {
    return spawnSync('cat', [file], { encoding: 'utf8' }).stdout;
  } finally {
    rmSync(file, { force: true });
  }
}

/** A stand-in API server: stamps the first request (performance.now of this process) and refuses everything. */
async function firstRequestServer() {
  let resolveFirst!: (t: number) => void;
  let first = new Promise<number>((r) => (resolveFirst = r));
  const server = createServer((req, res) => {
    resolveFirst(performance.now());
    req.resume();
    res.writeHead(403, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: 'bench: first request stamped' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const kubeconfig = JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'bench', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'bench', user: { token: 'bench-token' } }],
    contexts: [{ name: 'bench', context: { cluster: 'bench', user: 'bench', namespace: 'bench' } }],
    'current-context': 'bench',
  });
  return {
    kubeconfig,
    /** The next first request. */
    arm: () => (first = new Promise<number>((r) => (resolveFirst = r))),
    get first() {
      return first;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function actionEnv(kubeconfig: string, scratch: string): NodeJS.ProcessEnv {
  for (const f of ['summary', 'output', 'state']) writeFileSync(join(scratch, f), '');
  writeFileSync(join(scratch, 'event.json'), '{}');
  return {
    PATH: process.env.PATH,
    HOME: scratch,
    GITHUB_WORKSPACE: root,
    GITHUB_STEP_SUMMARY: join(scratch, 'summary'),
    GITHUB_OUTPUT: join(scratch, 'output'),
    GITHUB_STATE: join(scratch, 'state'),
    GITHUB_EVENT_NAME: 'push',
    GITHUB_EVENT_PATH: join(scratch, 'event.json'),
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_RUN_ID: '1',
    GITHUB_REPOSITORY: 'acme/iris',
    RUNNER_TEMP: scratch,
    INPUT_KUBECONFIG: kubeconfig,
    'INPUT_PROJECT-DIR': 'examples/iris-pipeline',
    INPUT_COMMAND: 'deploy',
  };
}

/** Bytes of the files under `dir` (recursively), leaving out the subdirectories `skip` (other bundles'). */
function treeBytes(dir: string, skip: string[]): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { withFileTypes: true }).reduce((n, e) => {
    if (e.isDirectory()) return n + (skip.includes(e.name) ? 0 : treeBytes(join(dir, e.name), []));
    return n + (e.isFile() ? statSync(join(dir, e.name)).size : 0);
  }, 0);
}
const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;

type Rows = Record<string, Sample[]>;
const WHAT = ['node -e 0', '--version', 'validate', 'action: first API request'] as const;

/** Runs every measurement of every dist once per round, round after round, so a busy spell hits all of them alike. */
async function measure(targets: string[]): Promise<Rows[]> {
  const server = await firstRequestServer();
  const scratch = mkdtempSync(join(tmpdir(), 'bench-startup-'));
  const all: Rows[] = targets.map(() => Object.fromEntries(WHAT.map((w) => [w, [] as Sample[]])));
  try {
    for (let i = 0; i < runs; i++) {
      for (const [t, dist] of targets.entries()) {
        const rows = all[t]!;
        rows['node -e 0']!.push(await runNode(['-e', '0']));
        rows['--version']!.push(await runNode([join(dist, 'cli', 'index.js'), '--version']));
        rows.validate!.push(await runNode([join(dist, 'cli', 'index.js'), 'validate', 'examples/iris-pipeline']));
        server.arm();
        rows['action: first API request']!.push(await runNode([join(dist, 'index.js')], { env: actionEnv(server.kubeconfig, scratch), until: server.first }));
      }
      process.stderr.write(`round ${i + 1}/${runs}\n`);
    }
  } finally {
    await server.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  return all;
}

function buildCurrent(): string {
  const out = mkdtempSync(join(tmpdir(), 'bench-startup-dist-'));
  process.stderr.write(`building the current sources into ${out} (takes a minute or two)…\n`);
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--out', out], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('build failed');
  return out;
}

const built = argv.includes('--build') ? buildCurrent() : undefined;
const targets = [...dists, ...(built ? [built] : [])];
if (targets.length === 0) targets.push(join(root, 'dist'));
process.stderr.write(`measuring ${targets.join(', ')} (${runs} rounds)…\n`);
const measured = await measure(targets);
type Result = { dist: string; rows: Rows; sizes: Record<'action' | 'cli' | 'post', number> };
const results: Result[] = targets.map((dist, i) => ({
  dist,
  rows: measured[i]!,
  // Every file of each bundle: the entry and the chunks it may load.
  sizes: { action: treeBytes(dist, ['cli', 'post']), cli: treeBytes(join(dist, 'cli'), []), post: treeBytes(join(dist, 'post'), []) },
}));
const load = loadavg().map((x) => x.toFixed(2)).join(', ');
console.log(`# Cold start: medians of ${runs} runs, ${new Date().toISOString().slice(0, 10)}, load average ${load}\n`);
for (const [i, r] of results.entries()) console.log(`${String.fromCharCode(65 + i)}: ${r.dist}`);
console.log('');
// One floor for every column: node -e 0 over all rounds (it does not depend on the dist).
const floorMs = median(results.flatMap((r) => r.rows['node -e 0']!.map((s) => s.ms)))!;
const cell = (r: Result, name: string) => {
  const ms = median(r.rows[name]!.map((s) => s.ms))!;
  const rss = median(r.rows[name]!.map((s) => s.rssKb));
  return `${Math.round(ms)} ms (${(ms / floorMs).toFixed(1)}x)${rss ? `, ${Math.round(rss / 1024)} MB` : ''}`;
};
const names = [...WHAT];
console.log(table(['what', ...results.map((_, i) => `${String.fromCharCode(65 + i)}: time (x node -e 0), peak RSS`)], names.map((n) => [n, ...results.map((r) => cell(r, n))])));
console.log('');
console.log(table(['bundle', ...results.map((_, i) => String.fromCharCode(65 + i))], (['action', 'cli', 'post'] as const).map((b) => [b === 'action' ? 'action: dist/ (entry + chunks, without cli/ and post/)' : `${b}: dist/${b}/ (entry + chunks)`, ...results.map((r) => mb(r.sizes[b]))])));
if (built) rmSync(built, { recursive: true, force: true });
