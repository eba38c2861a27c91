/**
 * How the engine reports progress: through this interface only, so the same engine serves the action
 * (over @actions/core), the CLI (stderr) and tests (recording or silent). The engine never writes to the console.
 */
import type { Writable } from 'node:stream';
import type { ConfigProblem } from './config/problems.js';

export interface Logger {
  /** Every resolved setting and API call; shown only when asked for (--verbose, ACTIONS_STEP_DEBUG). */
  debug(message: string): void;
  /** Milestones: "Created Job stage-1 in ml-pipeline". */
  info(message: string): void;
  /** Degraded paths and config warnings; `problem` lets the action annotate the file. */
  warn(message: string, problem?: ConfigProblem): void;
  /** Failures; `problem` lets the action annotate the file. */
  error(message: string, problem?: ConfigProblem): void;
  /** Runs `fn` inside a named, collapsible group of output (a DAG step, a stage's logs). */
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /**
   * While the output is behind its reader (a pipe read more slowly than stages print), a promise of its catching up:
   * stage log streams pause until then, so memory stays flat however much a stage prints. Undefined when not behind.
   */
  backlog?(): Promise<void> | undefined;
}

/**
 * `Logger.backlog` for a stream (process.stdout, process.stderr): behind from a `write()` that returned false (more than
 * the stream's highWaterMark, 16 KiB, waits to be written) until its 'drain'. Stage logs read only as fast as the
 * output is read keep next to nothing queued: lines queued longer live through young-generation collections, and what
 * a collection promotes stays in the old generation until a full one (a 1 MiB allowance here cost 30 MB of RSS over
 * 100 MB of stage log). A closed or failed stream never drains, so it ends the wait too (and is never behind).
 */
export function streamBacklog(stream: Writable): () => Promise<void> | undefined {
  let caughtUp: Promise<void> | undefined;
  return () => {
    if (!stream.writableNeedDrain) return undefined;
    caughtUp ??= new Promise<void>((resolve) => {
      const done = () => {
        for (const e of ['drain', 'close', 'error'] as const) stream.off(e, done);
        caughtUp = undefined;
        resolve();
      };
      for (const e of ['drain', 'close', 'error'] as const) stream.once(e, done);
    });
    return caughtUp;
  };
}

/** A logger that drops everything. */
export const nullLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  group: (_name, fn) => fn(),
};

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error' | 'group';
  message: string;
  problem?: ConfigProblem;
}

/** A logger that keeps every entry, for tests. */
export class RecordingLogger implements Logger {
  readonly entries: LogEntry[] = [];
  debug(message: string): void {
    this.entries.push({ level: 'debug', message });
  }
  info(message: string): void {
    this.entries.push({ level: 'info', message });
  }
  warn(message: string, problem?: ConfigProblem): void {
    this.entries.push({ level: 'warn', message, ...(problem ? { problem } : {}) });
  }
  error(message: string, problem?: ConfigProblem): void {
    this.entries.push({ level: 'error', message, ...(problem ? { problem } : {}) });
  }
  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.entries.push({ level: 'group', message: name });
    return fn();
  }
  /** The messages logged at `level`. */
  messages(level: LogEntry['level']): string[] {
    return this.entries.filter((e) => e.level === level).map((e) => e.message);
  }
}
