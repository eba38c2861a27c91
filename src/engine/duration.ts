/**
 * Durations as users write them in flags and action inputs: `30m`, `90s`, `1h30m`, `2h`, `500ms`, or
 * plain seconds. One parser for the CLI and the action, so `--timeout` and `timeout:` agree.
 */

/** The longest duration a timer holds (setTimeout fires at once beyond 2^31-1 ms, so `1000h` would end a deploy at once): 596h. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** What a duration must be, for input and flag errors. */
export const DURATION_EXPECTED = 'a duration such as 30m, 1h or 90s, at most 596h';

/** Milliseconds, or undefined when `text` is not a positive duration a timer can hold (`MAX_DURATION_MS`). */
export function parseDuration(text: string): number | undefined {
  const ms = durationMs(text);
  return ms !== undefined && ms <= MAX_DURATION_MS ? ms : undefined;
}

function durationMs(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000 || undefined;
  if (!/^(\d+(\.\d+)?(ms|h|m|s))+$/.test(t)) return undefined;
  let ms = 0;
  for (const [, n, unit] of t.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) ms += Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  return ms > 0 ? ms : undefined;
}

/** `30m`, `90s`, `1h30m` for messages. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return [h > 0 ? `${h}h` : '', m > 0 ? `${m}m` : '', rest > 0 ? `${rest}s` : ''].join('');
}
