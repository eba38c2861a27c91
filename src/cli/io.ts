/**
 * What a CLI command may touch: its two output streams. Commands write results to stdout and every
 * message to stderr, so stdout can be piped (`bodywork-deploy plan | kubectl apply -f -`).
 *
 * Messages quote untrusted text (stage log lines, reasons, names, config values), and the CLI may run in a CI step
 * whose runner reads its output for commands: every message is printed as one line with `##[` and a leading `::`
 * broken up (engine/untrusted.ts). Secret values given on the command line (`--secret`, `--secrets-file`, `secret
 * create`) are replaced by `***` (engine/redact.ts) before that, so no stage log line or message prints one.
 */
// The engine's base only: the entry point imports this module, and the index would bring all the engine parts it names.
import { streamBacklog, redact, safeLine, type Logger } from '../engine/base.js';
import { colorEnabled, type Paint, painter } from './style.js';

/** Success. */
export const EXIT_OK = 0;
/** The command ran and failed (a deployment failed, an unexpected error). */
export const EXIT_FAILURE = 1;
/** Bad usage or a bad project: nothing was attempted. */
export const EXIT_USAGE = 2;

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether each stream may be coloured (style.ts: a TTY without NO_COLOR); absent: neither. */
  colors?: { stdout: boolean; stderr: boolean };
  /** Logger.backlog of stderr, where stage logs go. */
  stderrBacklog?: () => Promise<void> | undefined;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  colors: { stdout: colorEnabled(process.stdout), stderr: colorEnabled(process.stderr) },
  stderrBacklog: streamBacklog(process.stderr),
};

/** The painter for one of `io`'s streams. */
export function paint(io: CliIo, stream: 'stdout' | 'stderr'): Paint {
  return painter(io.colors?.[stream] === true);
}

/** Thrown by a command to end with `code` after printing `message` (if any) to stderr. */
export class CliExit extends Error {
  constructor(
    readonly code: number,
    message = '',
  ) {
    super(message);
    this.name = 'CliExit';
  }
}

/** `text` as one line that no CI runner reads as a command, secret values redacted. */
export function oneLine(text: string): string {
  return safeLine(redact(text));
}

/** `1 problem`, `3 problems`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Commander's collector for a repeatable option: `--secret a --secret b` gives `['a', 'b']`. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A logger printing to stderr: warnings and errors always, info unless quiet, debug when verbose. */
export function stderrLogger(io: CliIo, verbose = false): Logger {
  const p = paint(io, 'stderr');
  return {
    debug: (m) => {
      if (verbose) io.stderr(`${p('dim', 'debug:')} ${oneLine(m)}\n`);
    },
    info: (m) => io.stderr(`${oneLine(m)}\n`),
    warn: (m) => io.stderr(`${p('yellow', 'warning:')} ${oneLine(m)}\n`),
    error: (m) => io.stderr(`${p('red', 'error:')} ${oneLine(m)}\n`),
    group: async (name, fn) => {
      io.stderr(`${p('bold', oneLine(name))}\n`);
      return fn();
    },
    ...(io.stderrBacklog ? { backlog: io.stderrBacklog } : {}),
  };
}

/**
 * `value` as the one JSON document of `-o json` (stdout, newline-terminated). Its strings quote stage logs and
 * cluster messages, so, as for every message: secret values redacted, and `##[` written `\u0023#[` (the same
 * string to a JSON parser, no command to a CI runner, which reads `##[...]` anywhere in a line; JSON escapes line
 * breaks and indents every line, so no line starts with `::`).
 */
export function printJson(io: CliIo, value: unknown): void {
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? redact(v) : v), 2);
  io.stdout(`${text.replace(/##\[/g, '\\u0023#[')}\n`);
}
