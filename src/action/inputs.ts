/**
 * The action's inputs, every one read here, once, into one ActionInputs object. The credentials (`kubeconfig`,
 * `github-token`, `secrets`, `git-token`, `registry-password`) are read and masked first, so no later error or log
 * line can print one. Empty strings (how the runner passes an unset input) become `undefined` here, so the rest of the
 * code has one notion of "not given". The deploy settings are the engine's (engine/settings.ts), as the CLI's are.
 */
import * as core from '@actions/core';
import { checkRegistryCredentials, parseDeploySettings, parseList, registrySecretForms, SettingError, type DeploySettings, type RegistryCredentials, type SecretInput } from '../engine/index.js';
import { mask, maskKubeconfigText, maskValue, parseSecrets } from './credentials.js';

export const COMMANDS = ['deploy', 'plan', 'teardown', 'sweep-previews', 'status', 'cancel'] as const;
export type ActionCommand = (typeof COMMANDS)[number];
export const PREVIEW_MODES = ['auto', 'true', 'false'] as const;
export type PreviewMode = (typeof PREVIEW_MODES)[number];
export const CODE_SOURCES = ['bundle', 'git'] as const;
export const RUNNERS = ['runner', 'cluster'] as const;
export type CodeSourceInput = (typeof CODE_SOURCES)[number];

/** The credentials among the inputs, masked before anything else is read. */
export interface ActionCredentials {
  /** The `kubeconfig` input's content (plain or base64). */
  kubeconfig?: string;
  githubToken?: string;
  /** The `secrets` input's Secrets. */
  secrets: SecretInput[];
  /** The `git-token` input, for the `git` code source. */
  gitToken?: string;
  /** `registry-server`, `registry-username`, `registry-password` (masked in every form): the `bodywork-registry` Secret. */
  registry?: RegistryCredentials;
}

export interface ActionInputs extends DeploySettings, ActionCredentials {
  command: ActionCommand;
  /** Absolute or workspace-relative project directory. */
  projectDir: string;
  namespace?: string;
  context?: string;
  /** How stage pods get the code: `bundle` (ConfigMaps) or `git` (an init container clones GITHUB_SHA). */
  codeSource: CodeSourceInput;
  /** Where the DAG runs: `runner` (this step) or `cluster` (the in-cluster runner Job, engine/runner). */
  runner: (typeof RUNNERS)[number];
  /** The in-cluster runner's Node image. */
  runnerImage?: string;
  preview: PreviewMode;
  /** `https://{namespace}.example.com/{service}`. */
  publicUrl?: string;
  comment: boolean;
  allowForks: boolean;
  /** `sweep-previews` only: report what would be torn down, deleting nothing. */
  dryRun: boolean;
}

/** Reads one input's raw value (`core.getInput`; tests pass a table). */
export type InputReader = (name: string) => string;

/** Every input, credentials masked first; throws naming the input (never a credential's value) when one is wrong. */
export function readInputs(getInput: InputReader = core.getInput): ActionInputs {
  const credentials = readCredentials(getInput);
  const optional = (name: string): string | undefined => getInput(name).trim() || undefined;
  const deploy = deploySettings(optional);
  const inputs: ActionInputs = {
    command: oneOf(optional, 'command', COMMANDS, 'deploy'),
    projectDir: optional('project-dir') ?? '.',
    ...deploy,
    codeSource: oneOf(optional, 'code-source', CODE_SOURCES, 'bundle'),
    runner: oneOf(optional, 'runner', RUNNERS, 'runner'),
    preview: oneOf(optional, 'preview', PREVIEW_MODES, 'auto'),
    comment: bool(optional, 'comment', true),
    allowForks: bool(optional, 'allow-forks', false),
    dryRun: bool(optional, 'dry-run', false),
    ...credentials,
  };
  // A dry run of another command would silently deploy or delete for real.
  if (inputs.dryRun && inputs.command !== 'sweep-previews') throw new Error(`input dry-run: only for command: sweep-previews (use command: plan to see what a deploy would do), got command: ${inputs.command}`);
  const set = <K extends keyof ActionInputs>(key: K, value: ActionInputs[K] | undefined) => {
    if (value !== undefined) inputs[key] = value;
  };
  set('namespace', optional('namespace'));
  set('context', optional('context'));
  set('publicUrl', optional('public-url'));
  set('runnerImage', optional('runner-image'));
  return inputs;
}

/** The credentials, each masked as it is read (before any other input, whose errors could quote anything). */
function readCredentials(getInput: InputReader): ActionCredentials {
  const kubeconfig = getInput('kubeconfig').trim() || undefined;
  if (kubeconfig !== undefined) maskKubeconfigText(kubeconfig);
  const githubToken = getInput('github-token');
  mask(githubToken);
  const secrets = parseSecrets(getInput('secrets') || undefined);
  const gitToken = getInput('git-token').trim() || undefined;
  if (gitToken !== undefined) mask(gitToken);
  const registryPassword = getInput('registry-password').trim() || undefined;
  if (registryPassword !== undefined) maskValue(registryPassword);
  const registry = registryCredentials(getInput('registry-server').trim() || undefined, getInput('registry-username').trim() || undefined, registryPassword);
  return {
    secrets,
    ...(kubeconfig !== undefined ? { kubeconfig } : {}),
    ...(githubToken.trim() !== '' ? { githubToken: githubToken.trim() } : {}),
    ...(gitToken !== undefined ? { gitToken } : {}),
    ...(registry !== undefined ? { registry } : {}),
  };
}

/**
 * The registry credentials, every form of the password masked (registrySecretForms) before anything else can print
 * it; undefined when none are given.
 */
function registryCredentials(server: string | undefined, username: string | undefined, password: string | undefined): RegistryCredentials | undefined {
  const problem = checkRegistryCredentials({ server, username, password });
  if (problem !== undefined) throw new Error(`inputs registry-server, registry-username, registry-password: ${problem}`);
  if (server === undefined || username === undefined || password === undefined) return undefined;
  const registry = { server, username, password };
  for (const form of registrySecretForms(registry)) maskValue(form);
  return registry;
}

/** The engine's DeploySettings of the inputs, its parse errors worded as input errors. */
function deploySettings(optional: (name: string) => string | undefined): DeploySettings {
  const pullSecrets = parseList(optional('image-pull-secrets'), /[,\n]/);
  try {
    const settings = parseDeploySettings({
      timeout: optional('timeout'),
      lockTimeout: optional('lock-timeout'),
      keepJobs: optional('keep-jobs'),
      prune: bool(optional, 'prune', true),
      image: optional('image'),
      ingressClass: optional('ingress-class'),
      stages: optional('stages'),
      ...(pullSecrets !== undefined && pullSecrets.length > 0 ? { imagePullSecrets: pullSecrets } : {}),
    });
    // An input of only commas is unset, as an empty one is (the CLI's `--stages ''` deploys nothing).
    if (settings.stages?.length === 0) delete settings.stages;
    return settings;
  } catch (error) {
    if (error instanceof SettingError) throw new Error(`input ${error.setting}: expected ${error.expected}, got '${error.got}'`, { cause: error });
    throw error;
  }
}

function oneOf<T extends string>(optional: (name: string) => string | undefined, name: string, allowed: readonly T[], fallback: T): T {
  const value = optional(name) ?? fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`input ${name}: expected one of ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}

function bool(optional: (name: string) => string | undefined, name: string, fallback: boolean): boolean {
  const value = optional(name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (['true', 'yes', 'on', '1'].includes(value)) return true;
  if (['false', 'no', 'off', '0'].includes(value)) return false;
  throw new Error(`input ${name}: expected true or false, got '${value}'`);
}

/** The credentials: never logged, not even their length. */
const CREDENTIALS: ReadonlySet<string> = new Set<keyof ActionCredentials>(['kubeconfig', 'githubToken', 'secrets', 'gitToken', 'registry']);

/**
 * One debug line per resolved input, for a run's debug log: the value of each setting, and of each credential only
 * whether it was given (the Secrets of `secrets` by name: their values never).
 */
export function inputLines(inputs: ActionInputs): string[] {
  return Object.entries(inputs).map(([key, value]) => {
    if (!CREDENTIALS.has(key)) return `input ${key}: ${JSON.stringify(value)}`;
    if (key === 'secrets') return `input secrets: ${inputs.secrets.map((s) => s.name).join(', ') || 'none'}`;
    return `input ${key}: given`;
  });
}
