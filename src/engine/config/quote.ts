/**
 * The one way a value from a config file, an input or a flag is shown in a message: in double quotes with control
 * and invisible characters escaped (a value cannot break the message into lines or hide text), and cut to a short
 * excerpt, so a megabyte value, or a key file read by mistake, is never printed whole.
 */

/** Characters of a value shown before it is cut. */
export const QUOTE_MAX_CHARS = 60;

/** `"value"`, escaped; longer values as `"first 60 characters…" (N characters)`. */
export function quoteValue(value: string, max = QUOTE_MAX_CHARS): string {
  const cut = value.length > max;
  // JSON.stringify escapes quotes, backslashes and C0 controls; the rest are line separators, bidi and C1 controls.
  const text = JSON.stringify(cut ? `${value.slice(0, max)}…` : value).replace(
    /[\u007f-\u009f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return cut ? `${text} (${value.length} characters)` : text;
}
