/**
 * Secret values from the command line: `deploy --secret NAME.KEY=VALUE` (repeatable) and `--secrets-file FILE`
 * (the action's `secrets` lines), parsed by the engine's one parser (engine/config/secrets-input.ts). Every value is
 * registered for redaction before anything is parsed or printed.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseSecretEntries, secretEntryValue, secretLineEntries, quoteValue, runSecretRefs, secretRefSource, addSecret, errorMessage, type SecretEntry, type SecretInput, type DeployPlan } from '../engine/index.js';
import { CliExit, EXIT_USAGE, oneLine } from './io.js';

export interface SecretFlags {
  secret?: string[];
  secretsFile?: string;
}

/** Every value of `entries` redacted from now on, then the entries parsed; a bad entry ends the command with exit 2. */
export function parseSecretArgs(entries: SecretEntry[]): SecretInput[] {
  for (const entry of entries) addSecret(secretEntryValue(entry));
  try {
    return parseSecretEntries(entries);
  } catch (error) {
    throw new CliExit(EXIT_USAGE, `error: ${oneLine(errorMessage(error))}`);
  }
}

/** The Secrets of `--secrets-file` and `--secret` (a key given in both is an error). */
export async function secretsFromFlags(flags: SecretFlags): Promise<SecretInput[]> {
  const entries: SecretEntry[] = [];
  if (flags.secretsFile !== undefined) {
    let text: string;
    try {
      text = await readFile(flags.secretsFile, 'utf8');
    } catch (error) {
      throw new CliExit(EXIT_USAGE, `error: --secrets-file ${oneLine(flags.secretsFile)} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    entries.push(...secretLineEntries(text, `--secrets-file ${flags.secretsFile}`));
  }
  (flags.secret ?? []).forEach((text, i) => entries.push({ text, where: `--secret #${i + 1}` }));
  return parseSecretArgs(entries);
}

/**
 * The secret keys the run's stages reference that `given` does not hold: for `deploy --sandbox`, whose new cluster
 * has no Secrets. One line each, `<dir>/<file>:<line>: ... add --secret NAME.KEY=...`, and the flags to add.
 */
export function missingSandboxSecrets(dir: string, plan: DeployPlan, given: SecretInput[]): { lines: string[]; flags: string[] } {
  const have = new Set(given.flatMap((s) => Object.keys(s.data).map((key) => `${s.name}.${key}`)));
  const lines: string[] = [];
  const flags: string[] = [];
  for (const { stage, ref } of runSecretRefs(plan)) {
    const flag = `--secret ${ref.secret}.${ref.key}=...`;
    if (have.has(`${ref.secret}.${ref.key}`)) continue;
    lines.push(
      oneLine(`${path.join(dir, secretRefSource(ref))}: stage ${quoteValue(stage)} reads key ${ref.key} of secret ${ref.secret}, which the sandbox does not have; add ${flag}`),
    );
    if (!flags.includes(flag)) flags.push(flag);
  }
  return { lines, flags };
}
