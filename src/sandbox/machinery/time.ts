/** Time as the API writes it (AM pkg/apis/meta/v1 Time and MicroTime, Go's RFC3339Nano for log lines). */

/** metav1.Time: RFC3339 with second precision. */
export function nowRFC3339(now: number): string {
  return new Date(Math.floor(now / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** MicroTime as the API serves it (Lease renewTime/acquireTime): RFC3339 with six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** RFC3339Nano as Go prints it (trailing zeros of the fraction trimmed), used for log timestamps. */
export function rfc3339Nano(ms: number, subMsNanos = 0): string {
  const iso = new Date(ms).toISOString(); // 2026-01-02T03:04:05.678Z
  const base = iso.slice(0, 19);
  const nanos = (ms % 1000) * 1_000_000 + subMsNanos;
  if (nanos === 0) return `${base}Z`;
  const frac = String(nanos).padStart(9, '0').replace(/0+$/, '');
  return `${base}.${frac}Z`;
}

/** Milliseconds since the epoch of an API timestamp; undefined when missing or unreadable. */
export function parseTime(t: string | undefined): number | undefined {
  if (!t) return undefined;
  const v = Date.parse(t);
  return Number.isNaN(v) ? undefined : v;
}
