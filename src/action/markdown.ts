/**
 * Markdown for the job summary and the PR comment. `core.summary` escapes nothing, and stage names, config values,
 * log lines and cluster messages are user- or cluster-controlled, so every piece of text goes through `escapeHtml`
 * (rendered as GitHub-flavoured markdown with HTML allowed), which first redacts the run's secrets: escaped, a
 * secret no longer matches the runner's literal masking.
 */
import { redact } from './redact.js';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Redacts known secrets, then escapes text for HTML and neutralises markdown syntax characters, so text shows as written. */
export function escapeHtml(text: string): string {
  // One pass, so the `#` of an entity written for one character is not escaped again.
  return redact(text).replace(/[&<>"'\\`*_[\]|~#]/g, (c) => HTML_ESCAPES[c] ?? `&#${c.charCodeAt(0)};`);
}

/** A `<code>` span holding `text`, escaped. */
export function code(text: string): string {
  return `<code>${escapeHtml(text)}</code>`;
}

/**
 * An HTML table; cells are given as raw HTML (callers escape their text). Without `header` it has no header row
 * (a key-value table: an empty one would render as a blank bar above it).
 */
export function table(header: string[] | undefined, rows: string[][]): string {
  const tr = (cells: string[], tag: 'th' | 'td') => `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join('')}</tr>`;
  return `<table>\n${header ? `${tr(header, 'th')}\n` : ''}${rows.map((r) => tr(r, 'td')).join('\n')}\n</table>\n`;
}

/** A preformatted, escaped block, shown open. */
export function pre(body: string): string {
  return `<pre>${escapeHtml(body)}</pre>\n`;
}

/** A collapsed section with a preformatted, escaped body. */
export function details(summary: string, body: string): string {
  return `<details><summary>${escapeHtml(summary)}</summary>\n\n<pre>${escapeHtml(body)}</pre>\n\n</details>\n`;
}

/** GitHub refuses step summaries over 1 MiB; stay well under it and say so when text was cut. */
export const SUMMARY_LIMIT_BYTES = 1000 * 1024;

/** Cuts `text` to at most `maxBytes` UTF-8 bytes, on a line boundary, noting what was left out. */
export function truncateBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const lines = text.split('\n');
  const kept: string[] = [];
  let size = 0;
  for (const line of lines) {
    const bytes = Buffer.byteLength(line) + 1;
    if (size + bytes > maxBytes) break;
    kept.push(line);
    size += bytes;
  }
  return `${kept.join('\n')}\n… ${lines.length - kept.length} more lines not shown (summary size limit)`;
}
