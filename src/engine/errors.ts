/** The words every part of the tool uses for a failure: one home, so messages read the same everywhere. */

/** The message of anything thrown (an Error's message; anything else as text). */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
