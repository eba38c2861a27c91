/**
 * Config problems: every problem found in a project is collected and reported at once,
 * compiler-style, as `path:line[:col]: message`, with `path` relative to the project directory.
 */
export type Severity = 'error' | 'warning';

export interface ConfigProblem {
  severity: Severity;
  /** File relative to the project directory, with forward slashes. */
  file: string;
  /** 1-based line, when the problem has a position. */
  line?: number;
  /** 1-based column, when known. */
  column?: number;
  message: string;
}

/** Where a problem is: `path:line[:col]`, or the path alone. */
export function problemLocation(p: Pick<ConfigProblem, 'file' | 'line' | 'column'>): string {
  return [p.file, p.line, p.line !== undefined ? p.column : undefined].filter((x) => x !== undefined).join(':');
}

/** Renders one problem as `path:line[:col]: message` (warnings say so). */
export function formatProblem(p: ConfigProblem): string {
  return `${problemLocation(p)}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}`;
}

/** Sorts problems by file, then line, then column, so output is stable and reads top to bottom. */
export function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort(
    (a, b) =>
      a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0) || a.message.localeCompare(b.message),
  );
}
