/**
 * Private registries on the command line. `--image-pull-secret NAME` (repeatable) names existing Secrets the stage pods
 * pull with; `--registry-server` and `--registry-username` with the password in BODYWORK_REGISTRY_PASSWORD (an
 * environment variable, never an argument: argv is visible to every user of the machine through ps) create the
 * `bodywork-registry` Secret and use it too. Every form of the password is redacted before anything is printed.
 *
 * BODYWORK_SANDBOX_REGISTRIES configures the sandbox's emulated private registries (`deploy --sandbox`, `sandbox`): a
 * JSON array of `{server, username, password, images?}` (sandbox/kubelet/image-pull.ts); its passwords are redacted too.
 */
import type { Command } from 'commander';
import { checkRegistryCredentials, registrySecret, registrySecretForms, REGISTRY_SECRET, addSecret, type SecretValues } from '../engine/index.js';
import type { PrivateRegistry } from '../sandbox/kubelet/image-pull.js';
import { CliExit, collect, EXIT_USAGE, oneLine } from './io.js';

export const REGISTRY_PASSWORD_ENV = 'BODYWORK_REGISTRY_PASSWORD';
export const SANDBOX_REGISTRIES_ENV = 'BODYWORK_SANDBOX_REGISTRIES';

export interface RegistryFlags {
  imagePullSecret?: string[];
  registryServer?: string;
  registryUsername?: string;
}

/** Adds the pull-secret options to `command`. `create`: also the registry credentials (deploy). */
export function withRegistryOptions<T extends Command>(command: T, create: boolean): T {
  command.option('--image-pull-secret <name>', 'an existing Secret (docker-registry) every stage pod pulls its image with (repeatable)', collect);
  if (create) {
    command
      .option('--registry-server <host>', `with --registry-username and $${REGISTRY_PASSWORD_ENV}: create the Secret ${REGISTRY_SECRET} for this registry (e.g. ghcr.io) and pull with it`)
      .option('--registry-username <user>', `user name for --registry-server (the password or token comes from $${REGISTRY_PASSWORD_ENV}, never an argument)`);
  }
  return command;
}

/** The plan's pull secrets and, with credentials, the Secret to create; exit 2 for incomplete credentials. */
export function registryFromFlags(flags: RegistryFlags, env: NodeJS.ProcessEnv = process.env): { imagePullSecrets?: string[]; secret?: SecretValues } {
  const password = env[REGISTRY_PASSWORD_ENV] || undefined;
  const server = flags.registryServer;
  const username = flags.registryUsername;
  const names = [...(flags.imagePullSecret ?? [])];
  // A password in the environment alone configures nothing (it may be set for other commands).
  if (server === undefined && username === undefined) return names.length > 0 ? { imagePullSecrets: names } : {};
  const problem = checkRegistryCredentials({ server, username, password });
  if (problem !== undefined) throw new CliExit(EXIT_USAGE, `error: ${oneLine(problem)}${password === undefined ? ` (set $${REGISTRY_PASSWORD_ENV})` : ''}`);
  const credentials = { server: server!, username: username!, password: password! };
  for (const form of registrySecretForms(credentials)) addSecret(form);
  return { imagePullSecrets: [...names, REGISTRY_SECRET], secret: registrySecret(credentials) };
}

/** The sandbox's private registries from BODYWORK_SANDBOX_REGISTRIES (none when unset); exit 2 when malformed. */
export function sandboxRegistries(env: NodeJS.ProcessEnv = process.env): PrivateRegistry[] {
  const text = env[SANDBOX_REGISTRIES_ENV];
  if (text === undefined || text.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliExit(EXIT_USAGE, `error: $${SANDBOX_REGISTRIES_ENV} is not JSON: expected [{"server": "ghcr.io", "username": "...", "password": "...", "images": ["ghcr.io/acme/x:1"]}]`);
  }
  const list = Array.isArray(parsed) ? parsed : [];
  const ok = (x: unknown): x is PrivateRegistry => {
    const r = x as Partial<Record<keyof PrivateRegistry, unknown>> | null;
    return r !== null && typeof r === 'object' && typeof r.server === 'string' && typeof r.username === 'string' && typeof r.password === 'string' && (r.images === undefined || (Array.isArray(r.images) && r.images.every((i: unknown) => typeof i === 'string')));
  };
  for (const r of list) if (r !== null && typeof r === 'object' && typeof (r as { password?: unknown }).password === 'string') for (const form of registrySecretForms(r as PrivateRegistry)) addSecret(form);
  if (!Array.isArray(parsed) || !list.every(ok)) {
    throw new CliExit(EXIT_USAGE, `error: $${SANDBOX_REGISTRIES_ENV} must be a JSON array of {"server", "username", "password", "images"?} (strings; images a list of image references)`);
  }
  return list.map((r) => ({ server: r.server, username: r.username, password: r.password, ...(r.images !== undefined ? { images: r.images } : {}) }));
}
