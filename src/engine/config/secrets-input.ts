/**
 * The `secrets` input (action) and its lines: `SECRET_NAME.KEY=value`, one a line. One parser, so every problem is an
 * input error naming the line, never the value, before anything is written to the cluster.
 */
import { isDns1123Subdomain } from './rules.js';

/** One Kubernetes Secret to create from the input. */
export interface SecretInput {
  name: string;
  data: Record<string, string>;
}

/** Secret data keys: the API's `[-._a-zA-Z0-9]+`, at most 253 characters. */
const SECRET_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

/**
 * Parses the lines (the secret name is what comes before the last dot of the left-hand side, the value everything
 * after the first `=`, without surrounding spaces); blank lines and `#` comments are skipped. Throws for a malformed
 * line, a name or key the API would refuse (only after the namespace was created), or a key given twice.
 */
export function parseSecretLines(text: string): SecretInput[] {
  const secrets = new Map<string, Record<string, string>>();
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const left = eq > 0 ? line.slice(0, eq).trim() : '';
    const dot = left.lastIndexOf('.');
    const name = left.slice(0, Math.max(dot, 0));
    const key = left.slice(dot + 1);
    if (eq <= 0 || dot <= 0 || !isDns1123Subdomain(name) || !SECRET_KEY.test(key)) {
      throw new Error(
        `input secrets, line ${i + 1}: expected SECRET_NAME.KEY=value with SECRET_NAME a Kubernetes Secret name (lower-case letters, digits, '-' and '.', at most 253 characters) and KEY letters, digits, '-', '_' or '.'`,
      );
    }
    const earlier = seen.get(`${name}.${key}`);
    if (earlier !== undefined) throw new Error(`input secrets, line ${i + 1}: ${name}.${key} is already set at line ${earlier}; give each key once`);
    seen.set(`${name}.${key}`, i + 1);
    const data = secrets.get(name) ?? {};
    data[key] = line.slice(eq + 1).trim();
    secrets.set(name, data);
  });
  return [...secrets].map(([name, data]) => ({ name, data }));
}
