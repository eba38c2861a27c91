/**
 * Untrusted text (stage logs, termination messages, stage names, config values, API messages) made safe to print
 * where a CI runner reads output lines as commands. The GitHub Actions runner ends a line at `\r`, `\n` or `\r\n`,
 * takes `::name::` at a line's start (after spaces) and the legacy `##[name]` anywhere in a line; its log viewer
 * also renders `##[error]`, `##[group]` and the like. Hand-written: no library knows these rules.
 */

/** U+200B ZERO WIDTH SPACE: breaks a marker without changing what a reader sees. */
const BREAK = '\u200b';

/** `##[` and a line-leading `::` broken up, so neither parser nor log viewer sees a command in `line`. */
export function neutralise(line: string): string {
  return line.replace(/##\[/g, `##${BREAK}[`).replace(/^(\s*):(?=:)/, `$1:${BREAK}`);
}

/** One line: `\r` and `\n` written as the two characters `\r` and `\n`, markers neutralised. */
export function safeLine(text: string): string {
  return neutralise(text.replace(/\r/g, '\\r').replace(/\n/g, '\\n'));
}

/** The lines of `text` as the runner splits them (at `\r`, `\n` and `\r\n`), each neutralised; no empty last line. */
export function safeLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length > 1 && lines.at(-1) === '') lines.pop();
  return lines.map(neutralise);
}
