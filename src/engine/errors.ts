/** The words every part of the tool uses for a failure: one home, so messages read the same everywhere. */

/** The message of anything thrown (an Error's message; anything else as text). */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** An error's first line, for a one-line reason (a stack or a server's multi-line text stays in debug output). */
export function errorLine(e: unknown): string {
  return errorMessage(e).split('\n')[0]!;
}

/** Why a run was aborted, for messages: the signal's own reason when it gave one, else `cancelled`. */
export function abortMessage(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (r instanceof Error && r.name !== 'AbortError') return r.message;
  if (typeof r === 'string' && r !== '') return r;
  return 'cancelled';
}
