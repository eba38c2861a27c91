/**
 * Secret values given to a run: the action's `secrets` input and the CLI's `--secret`, `--secrets-file` and
 * `secret create` arguments. One parser, so every problem is an error naming where the bad entry was written (a line,
 * a flag), never its value, before anything is written to the cluster.
 */
import { isDns1123Subdomain } from '../kube/names.js';

/** One Kubernetes Secret to create from the input. */
export interface SecretInput {
  name: string;
  data: Record<string, string>;
}

/**
 * One entry of secrets input: a `SECRET_NAME.KEY=value` line, or, when `secret` is given, a `KEY=value` pair of that
 * Secret. `where` names the entry in messages (`input secrets, line 3`, `--secret #2`).
 */
export interface SecretEntry {
  text: string;
  where: string;
  secret?: string;
}

/** Secret data keys: the API's `[-._a-zA-Z0-9]+`, at most 253 characters. */
const SECRET_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

const NAME_RULE = "a Kubernetes Secret name (lower-case letters, digits, '-' and '.', at most 253 characters)";
const KEY_RULE = "KEY letters, digits, '-', '_' or '.'";

/** The value of an entry (everything after the first `=`, without surrounding spaces), for masking before parsing. */
export function secretEntryValue(entry: Pick<SecretEntry, 'text'>): string {
  const eq = entry.text.indexOf('=');
  return eq > 0 ? entry.text.slice(eq + 1).trim() : '';
}

/**
 * Parses entries into Secrets (the secret name of a line is what comes before the last dot of the left-hand side,
 * the value everything after the first `=`, without surrounding spaces). Throws for a malformed entry, a name or key
 * the API would refuse (only after the namespace was created), or a key given twice.
 */
export function parseSecretEntries(entries: SecretEntry[]): SecretInput[] {
  const secrets = new Map<string, Record<string, string>>();
  const seen = new Map<string, string>();
  for (const entry of entries) {
    const text = entry.text.trim();
    const eq = text.indexOf('=');
    const left = eq > 0 ? text.slice(0, eq).trim() : '';
    let name: string;
    let key: string;
    if (entry.secret !== undefined) {
      name = entry.secret;
      key = left;
      if (!isDns1123Subdomain(name)) throw new Error(`${entry.where}: the secret name must be ${NAME_RULE}`);
      if (eq <= 0 || !SECRET_KEY.test(key)) throw new Error(`${entry.where}: expected KEY=value with ${KEY_RULE}`);
    } else {
      const dot = left.lastIndexOf('.');
      name = left.slice(0, Math.max(dot, 0));
      key = left.slice(dot + 1);
      if (eq <= 0 || dot <= 0 || !isDns1123Subdomain(name) || !SECRET_KEY.test(key)) {
        throw new Error(`${entry.where}: expected SECRET_NAME.KEY=value with SECRET_NAME ${NAME_RULE} and ${KEY_RULE}`);
      }
    }
    const earlier = seen.get(`${name}.${key}`);
    if (earlier !== undefined) throw new Error(`${entry.where}: ${name}.${key} is already set (${earlier}); give each key once`);
    seen.set(`${name}.${key}`, entry.where);
    const data = secrets.get(name) ?? {};
    data[key] = secretEntryValue({ text });
    secrets.set(name, data);
  }
  return [...secrets].map(([name, data]) => ({ name, data }));
}

/** The entries of `SECRET_NAME.KEY=value` lines (blank lines and `#` comments skipped), named `<source>, line N`. */
export function secretLineEntries(text: string, source: string): SecretEntry[] {
  return text
    .split(/\r?\n/)
    .map((raw, i) => ({ text: raw, where: `${source}, line ${i + 1}` }))
    .filter((e) => e.text.trim() !== '' && !e.text.trim().startsWith('#'));
}

/** Parses `SECRET_NAME.KEY=value` lines (the action's `secrets` input, a `--secrets-file`); see `parseSecretEntries`. */
export function parseSecretLines(text: string, source = 'input secrets'): SecretInput[] {
  return parseSecretEntries(secretLineEntries(text, source));
}
