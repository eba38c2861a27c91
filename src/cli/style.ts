/**
 * Colour in the CLI's output: only where a person reads it (the stream is a terminal) and never when NO_COLOR is set
 * to anything but the empty string (no-color.org). Piped output, CI logs and `-o json` stay plain text, so
 * scripts never meet escape codes. node:util's styleText makes the codes; the decision is ours, per stream.
 */
import { styleText } from 'node:util';

export type Style = 'red' | 'green' | 'yellow' | 'bold' | 'dim';
export type Paint = (style: Style, text: string) => string;

/** Whether to colour a stream: a TTY, NO_COLOR unset or empty, and a terminal that is not `dumb`. */
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** A painter that colours when `enabled`, else returns the text unchanged. */
export function painter(enabled: boolean): Paint {
  return enabled ? (style, text) => styleText(style, text, { validateStream: false }) : (_style, text) => text;
}

/** The colour of a stage's result or state word in tables: green when all is well, red when failed, ... */
export function statusStyle(status: string): Style | undefined {
  if (/^(succeeded|ready)\b/.test(status)) return 'green';
  if (/^failed\b/.test(status)) return 'red';
  if (/^(rolled-back|cancelled|not ready|running)\b/.test(status)) return 'yellow';
  if (/^(skipped|not deployed)\b/.test(status)) return 'dim';
  return undefined;
}
