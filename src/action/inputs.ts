/**
 * The action's inputs, read in one place. Empty strings (how the runner passes an unset input)
 * become `undefined` here, so the rest of the code has one notion of "not given".
 */
import * as core from '@actions/core';
import { DURATION_EXPECTED, parseDuration, COUNT_EXPECTED, DEFAULT_KEEP_JOBS, DEFAULT_LOCK_TIMEOUT, DEFAULT_TIMEOUT, parseCount } from '../engine/index.js';

export const COMMANDS = ['deploy', 'plan', 'teardown', 'sweep-previews', 'status', 'cancel'] as const;
export type ActionCommand = (typeof COMMANDS)[number];
export const PREVIEW_MODES = ['auto', 'true', 'false'] as const;
export type PreviewMode = (typeof PREVIEW_MODES)[number];
export const CODE_SOURCES = ['bundle', 'git'] as const;
export const RUNNERS = ['runner', 'cluster'] as const;
export type CodeSourceInput = (typeof CODE_SOURCES)[number];


export interface ActionInputs {
  command: ActionCommand;
  /** Absolute or workspace-relative project directory. */
  projectDir: string;
  namespace?: string;
  context?: string;
  image?: string;
  ingressClass?: string;
  /** Only these stages (config names). */
  stages?: string[];
  timeoutMs: number;
  /** How long to wait for another run's deploy lock on the namespace. */
  lockTimeoutMs: number;
  /** After a successful run, delete objects of stages gone from the DAG and unused code bundles. */
  prune: boolean;
  /** Finished Jobs kept per batch stage after each step (0: delete them all). */
  keepJobs: number;
  /** How stage pods get the code: `bundle` (ConfigMaps) or `git` (an init container clones GITHUB_SHA). */
  codeSource: CodeSourceInput;
  /** Where the DAG runs: `runner` (this step) or `cluster` (the in-cluster runner Job, engine/runner). */
  runner: (typeof RUNNERS)[number];
  /** The in-cluster runner's Node image. */
  runnerImage?: string;
  preview: PreviewMode;
  /** `https://{namespace}.example.com/{service}`. */
  publicUrl?: string;
  githubToken?: string;
  comment: boolean;
  allowForks: boolean;
  /** `sweep-previews` only: report what would be torn down, deleting nothing. */
  dryRun: boolean;
  /** Existing Secrets the stage pods pull their images with (`image-pull-secrets`, comma- or line-separated). */
  imagePullSecrets?: string[];
  /** `registry-server` and `registry-username` (the password is a credential: main.ts reads and masks it first). */
  registryServer?: string;
  registryUsername?: string;
}

function optional(name: string): string | undefined {
  const value = core.getInput(name).trim();
  return value === '' ? undefined : value;
}

function oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
  const value = optional(name) ?? fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`input ${name}: expected one of ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}

function bool(name: string, fallback: boolean): boolean {
  const value = optional(name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (['true', 'yes', 'on', '1'].includes(value)) return true;
  if (['false', 'no', 'off', '0'].includes(value)) return false;
  throw new Error(`input ${name}: expected true or false, got '${value}'`);
}


/** Every input but the credentials (`kubeconfig`, `secrets`, `git-token`, `registry-password`), which main.ts reads and masks first. */
export function readInputs(): ActionInputs {
  const timeout = optional('timeout') ?? DEFAULT_TIMEOUT;
  const timeoutMs = parseDuration(timeout);
  if (timeoutMs === undefined) throw new Error(`input timeout: expected ${DURATION_EXPECTED}, got '${timeout}'`);
  const lockTimeout = optional('lock-timeout') ?? DEFAULT_LOCK_TIMEOUT;
  const lockTimeoutMs = parseDuration(lockTimeout);
  if (lockTimeoutMs === undefined) throw new Error(`input lock-timeout: expected ${DURATION_EXPECTED}, got '${lockTimeout}'`);
  const keepJobsText = optional('keep-jobs') ?? String(DEFAULT_KEEP_JOBS);
  const keepJobs = parseCount(keepJobsText);
  if (keepJobs === undefined) throw new Error(`input keep-jobs: expected ${COUNT_EXPECTED}, got '${keepJobsText}'`);
  const stages = optional('stages')
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const inputs: ActionInputs = {
    command: oneOf('command', COMMANDS, 'deploy'),
    projectDir: optional('project-dir') ?? '.',
    timeoutMs,
    lockTimeoutMs,
    prune: bool('prune', true),
    keepJobs,
    codeSource: oneOf('code-source', CODE_SOURCES, 'bundle'),
    runner: oneOf('runner', RUNNERS, 'runner'),
    preview: oneOf('preview', PREVIEW_MODES, 'auto'),
    comment: bool('comment', true),
    allowForks: bool('allow-forks', false),
    dryRun: bool('dry-run', false),
  };
  // A dry run of another command would silently deploy or delete for real.
  if (inputs.dryRun && inputs.command !== 'sweep-previews') throw new Error(`input dry-run: only for command: sweep-previews (use command: plan to see what a deploy would do), got command: ${inputs.command}`);
  const set = <K extends keyof ActionInputs>(key: K, value: ActionInputs[K] | undefined) => {
    if (value !== undefined) inputs[key] = value;
  };
  set('namespace', optional('namespace'));
  set('context', optional('context'));
  set('image', optional('image'));
  set('ingressClass', optional('ingress-class'));
  set('stages', stages && stages.length > 0 ? stages : undefined);
  set('publicUrl', optional('public-url'));
  set('githubToken', optional('github-token'));
  const pullSecrets = optional('image-pull-secrets')
    ?.split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  set('imagePullSecrets', pullSecrets && pullSecrets.length > 0 ? pullSecrets : undefined);
  set('registryServer', optional('registry-server'));
  set('registryUsername', optional('registry-username'));
  set('runnerImage', optional('runner-image'));
  return inputs;
}
