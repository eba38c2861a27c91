/**
 * Value rules shared by the INI and YAML loaders. Each check returns nothing when the value is
 * fine; callers phrase the message with the key name in the project's own spelling.
 */
import { quoteValue } from './quote.js';

/** Log levels Bodywork accepted (Python `logging` level names). */
export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const;

/** The warning for a log level we read but Bodywork refused, not being upper case (Python's `logging` knows `INFO`, not `info`). */
export function lowerCaseLogLevel(key: string, value: string): string {
  return `${key} ${quoteValue(value)} is read as ${value.toUpperCase()}; Bodywork accepted only upper case (${LOG_LEVELS.join(', ')})`;
}

/** Parses a whole number written in decimal (`"42"`, `"-1"`); anything else is `undefined`. */
export function parseWholeNumber(text: string): number | undefined {
  return /^[+-]?\d+$/.test(text.trim()) ? Number(text.trim()) : undefined;
}

/** Parses a finite decimal number like Python `float()` would (`"0.5"`, `".5"`, `"1e-1"`), without inf/nan. */
export function parseDecimal(text: string): number | undefined {
  return /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text.trim()) ? Number(text.trim()) : undefined;
}

// Docker reference grammar (github.com/distribution/reference, reference.go):
//   reference  := name [ ":" tag ] [ "@" digest ]
//   name       := [domain "/"] path-component ["/" path-component]*
//   domain     := host [":" port]; the first component is a domain only if it contains "." or ":",
//                 is "localhost", or has upper-case letters (splitDockerDomain)
//   path-component := [a-z0-9]+ ((?:[._]|__|-+) [a-z0-9]+)*
//   tag        := [\w][\w.-]{0,127}
//   digest     := algorithm ":" hex (we accept sha256 and sha512 with their exact lengths)
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const IMAGE_REFERENCE = new RegExp(
  `^(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}))?$`,
);

/** True when `image` is a syntactically valid Docker image reference (any registry). */
export function isImageReference(image: string): boolean {
  const match = IMAGE_REFERENCE.exec(image);
  if (!match) return false;
  const [, domain, path] = match;
  // Docker reads the first component as a registry host only if it looks like one; otherwise it is
  // part of the repository path (`user/image`) and must be lower-case like the rest. Docker would take
  // "Bodyworkml/core" as a host named "Bodyworkml"; we reject it, since that is almost always a typo.
  if (domain !== undefined && !/[.:]/.test(domain) && domain !== 'localhost' && !new RegExp(`^${PATH_COMPONENT}$`).test(domain)) {
    return false;
  }
  return (domain === undefined ? 0 : domain.length + 1) + path.length <= 255;
}

/** A portable environment variable name: letters, digits and `_`, not starting with a digit. */
export function isEnvVarName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

/** What a Kubernetes-name problem says is expected (shared wording for both formats). */
export const KUBERNETES_NAME_EXPECTED =
  'a name with at least one letter or digit (it becomes a Kubernetes name: lower-cased, other characters replaced by "-", shortened past 63 characters)';

/** What an image-reference problem says is expected. */
export const IMAGE_EXPECTED = 'an image reference like [registry[:port]/]name[:tag][@sha256:digest] with a lower-case name';

/** What a secret-name problem says is expected. */
export const SECRET_NAME_EXPECTED = 'a Kubernetes Secret name (lower-case letters, digits, "-" and ".", starting and ending with a letter or digit)';

/** What an environment-variable problem says is expected. */
export const ENV_NAME_EXPECTED = 'an environment variable name (letters, digits and "_", not starting with a digit)';

/** Interprets a boolean the way Python's `configparser.getboolean` does (case-insensitive). */
export function parseIniBoolean(text: string): boolean | undefined {
  const lower = text.trim().toLowerCase();
  if (['1', 'yes', 'true', 'on'].includes(lower)) return true;
  if (['0', 'no', 'false', 'off'].includes(lower)) return false;
  return undefined;
}
