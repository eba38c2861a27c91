/**
 * Everything the action prints goes through here, so no untrusted text becomes a workflow command.
 *
 * - Plain text (stage log lines, engine messages quoting names, reasons, values) is split at `\r`/`\n` as the
 *   runner splits it, `##[` is broken up, and the lines are printed inside `::stop-commands::<token>` ...
 *   `::<token>::` with a fresh crypto-random token per block (the runner ignores every command in between, and
 *   nobody can guess the token to end the block early). @actions/core has no helper for this pairing (its
 *   issueCommand is internal and `info` writes raw), hence the hand-written block.
 * - Lines are gathered for a moment and printed as one block (each block costs the log two framing lines); any
 *   command (group, annotation, mask, debug) prints the pending block first, so order is kept and the runner is
 *   never left stopped: every block is one complete write.
 * - Command data (annotations, group names, debug) is made one line with the markers broken up; @actions/core
 *   escapes the rest.
 */
import * as core from '@actions/core';
import { randomBytes } from 'node:crypto';
import { EOL } from 'node:os';
import { streamBacklog, safeLine, safeLines, errorMessage } from '../engine/index.js';

/** How long lines wait for company before their block is printed. */
const GATHER_MS = 100;
/** A block holds at most this many lines (a loud stage fills one long before GATHER_MS). */
const MAX_BLOCK_LINES = 2000;

let pending: string[] = [];
let timer: ReturnType<typeof setTimeout> | undefined;

/** Prints the pending lines as one stop-commands block. */
export function flush(): void {
  clearTimeout(timer);
  timer = undefined;
  if (pending.length === 0) return;
  const token = randomBytes(16).toString('hex');
  const block = `::stop-commands::${token}${EOL}${pending.join(EOL)}${EOL}::${token}::${EOL}`;
  pending = [];
  process.stdout.write(block);
}

process.on('exit', flush);

/** Prints untrusted (possibly multi-line) text as log lines. */
export function print(text: string): void {
  pending.push(...safeLines(text));
  gather();
}

/** Prints one message as one log line (line breaks shown as `\n`). */
export function info(message: string): void {
  pending.push(safeLine(message));
  gather();
}

function gather(): void {
  if (pending.length >= MAX_BLOCK_LINES) flush();
  else timer ??= setTimeout(flush, GATHER_MS);
}

/** Logger.backlog: stdout to the runner is a pipe, whose writes queue in memory while the runner reads behind. */
export const backlog = streamBacklog(process.stdout);

export function debug(message: string): void {
  flush();
  core.debug(safeLine(message));
}

export function warning(message: string, props?: core.AnnotationProperties): void {
  flush();
  core.warning(safeLine(message), props);
}

export function error(message: string, props?: core.AnnotationProperties): void {
  flush();
  core.error(safeLine(message), props);
}

/** Fails the step with one error annotation. */
export function fail(message: string): void {
  flush();
  core.setFailed(safeLine(message));
}

/** Registers `value` with the runner's log masking. */
export function addMask(value: string): void {
  flush();
  core.setSecret(value);
}

/** A collapsible group around `fn`'s output. */
export async function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  flush();
  core.startGroup(safeLine(name));
  try {
    return await fn();
  } finally {
    flush();
    core.endGroup();
  }
}

/**
 * Appends `markdown` to the job summary. Without GITHUB_STEP_SUMMARY (an older or local runner) there is none to
 * write: one debug line. A write that fails is a warning: the deploy's result must not change for it.
 */
export async function writeSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) {
    debug('GITHUB_STEP_SUMMARY is not set: no job summary written');
    return;
  }
  try {
    await core.summary.addRaw(markdown).write();
  } catch (e) {
    warning(`bodywork-deploy: could not write the job summary: ${errorMessage(e)}`);
  } finally {
    core.summary.emptyBuffer();
  }
}
