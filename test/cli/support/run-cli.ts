/** Runs the CLI as a user would (`node --import tsx src/cli/main.ts ...`), to completion or as a process to wait on. */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../../../', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(...args: string[]): Promise<CliResult> {
  return cliWithEnv({}, ...args);
}

/** `cli` with `env` added to the environment (credentials the CLI reads from variables). */
export function cliWithEnv(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: repo, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A running CLI whose output can be waited on. */
export function spawnCli(...args: string[]) {
  return spawnWatched(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: repo });
}

/** A running process (`file args`) whose output can be waited on, as spawnCli's. */
export function spawnWatched(file: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }) {
  const child: ChildProcess = spawn(file, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  const waiters: { re: RegExp; stream: 'stdout' | 'stderr'; resolve: (m: RegExpMatchArray) => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      const m = out[w.stream].match(w.re);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]!.on('data', (c: Buffer) => {
      out[stream] += c.toString();
      check();
    });
  }
  const exited = new Promise<number>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return {
    child,
    exited,
    output: () => ({ ...out }),
    /** Resolves with the first match of `re`; rejects when the CLI exits first. */
    waitFor: (re: RegExp, stream: 'stdout' | 'stderr' = 'stderr') =>
      Promise.race([
        new Promise<RegExpMatchArray>((resolve) => {
          waiters.push({ re, stream, resolve });
          check();
        }),
        exited.then((code) => {
          throw new Error(`${file} exited (${code}) before printing ${re}:\n${out.stderr}`);
        }),
      ]),
  };
}
