/**
 * The known secret values of this run (the action's `secrets` and `git-token` inputs, kubeconfig credentials,
 * exec-plugin output, user-info in server URLs; the CLI's `--secret`, `--secrets-file` and `secret create` values)
 * and the one redaction function. The CLI redacts every message before escaping and printing it. In the action the
 * runner masks the log, and the job summary only by literal match, so text that is escaped for markdown or posted through the API (PR comment, deployment
 * statuses) must be redacted here first: `escapeHtml` calls `redact` before escaping, GitHubPreview before posting.
 */

const secrets = new Set<string>();
let ordered: string[] = [];

/** Remembers `value` (trimmed, and each line of a multi-line value) as a secret; empty values are ignored. */
export function addSecret(value: string | undefined): void {
  const trimmed = value?.trim();
  if (!trimmed) return;
  const before = secrets.size;
  secrets.add(trimmed);
  if (/[\r\n]/.test(trimmed)) for (const line of trimmed.split(/\r\n|\r|\n/)) if (line.trim() !== '') secrets.add(line.trim());
  // Longest first, so a secret containing another is replaced whole.
  if (secrets.size !== before) ordered = [...secrets].sort((a, b) => b.length - a.length);
}

/** `text` with every known secret value replaced by `***`. */
export function redact(text: string): string {
  let out = text;
  for (const s of ordered) if (out.includes(s)) out = out.split(s).join('***');
  return out;
}

/** Forgets every secret (tests). */
export function clearSecrets(): void {
  secrets.clear();
  ordered = [];
}
