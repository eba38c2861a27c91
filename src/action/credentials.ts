/**
 * The action's credentials: the `kubeconfig` input (content, plain or base64) and the `secrets` input. Every
 * credential is registered with the runner's log masking (`::add-mask::`) and with redact.ts (the summary, the PR
 * comment and deployment statuses) before anything else is logged; the kubeconfig content is written to a 0600
 * file under RUNNER_TEMP, which the post step (post.ts) deletes.
 */
import * as core from '@actions/core';
import type { KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeContent, KubeConfigError, loadKube, parseSecretLines, type LoadedKubeConfig, type SecretInput } from '../engine/index.js';
import { addMask } from './output.js';
import { addSecret } from './redact.js';
import { KUBECONFIG_FILE_PREFIX, KUBECONFIG_STATE } from './state.js';

/** Hides `value` (and each of its lines) in the log and in everything the action writes. */
export function maskValue(value: string): void {
  addMask(value);
  addSecret(value);
  if (/[\r\n]/.test(value)) for (const line of value.split(/\r\n|\r|\n/)) if (line.trim() !== '') addMask(line.trim());
}

/** `maskValue` for credentials of 4 characters or more (shorter parts of a kubeconfig are not secrets). */
export function mask(value: string | undefined): void {
  if (value === undefined) return;
  const trimmed = value.trim();
  if (trimmed.length < 4) return;
  maskValue(trimmed);
}

/**
 * Masks what only shows once connecting: the exec plugin's (or auth provider's) token and client key, which
 * client-node obtains when it first prepares a request (and caches for the client's later ones), and user-info in
 * cluster server URLs.
 */
export async function maskConnectionSecrets(loaded: LoadedKubeConfig): Promise<void> {
  for (const cluster of loaded.kc.getClusters()) maskUserInfo(cluster.server);
  const opts: RequestOptions = { headers: {} };
  await (loaded.kc as KubeConfig).applyToHTTPSOptions(opts);
  const auth = (opts.headers as Record<string, unknown> | undefined)?.Authorization ?? (opts.headers as Record<string, unknown> | undefined)?.authorization;
  if (typeof auth === 'string') {
    mask(auth.replace(/^(Bearer|Basic)\s+/i, ''));
    if (/^Basic\s+/i.test(auth)) mask(Buffer.from(auth.replace(/^Basic\s+/i, ''), 'base64').toString('utf8'));
  }
  for (const key of [opts.key, opts.cert]) if (typeof key === 'string' || Buffer.isBuffer(key)) mask(key.toString());
}

/** The user name and password of `https://user:password@host` (raw and percent-decoded). */
function maskUserInfo(server: string | undefined): void {
  let url: URL;
  try {
    url = new URL(server ?? '');
  } catch {
    return;
  }
  for (const part of [url.username, url.password]) {
    if (part === '') continue;
    mask(part);
    mask(decodeURIComponent(part));
  }
  if (url.username !== '' && url.password !== '') mask(`${url.username}:${url.password}`);
}

/**
 * Masks what looks like a credential in kubeconfig text before it is parsed (a parse error must not print one):
 * the values of token, password and key/certificate data fields, and the whole content when it is base64.
 */
export function maskKubeconfigText(content: string): void {
  const trimmed = content.trim();
  if (/^[A-Za-z0-9+/=_\-\s]+$/.test(trimmed) && !/[:{]/.test(trimmed)) {
    mask(trimmed);
    try {
      content = decodeContent(trimmed);
    } catch {
      return;
    }
  }
  for (const m of content.matchAll(/["']?(token|password|client-key-data|client-certificate-data|id-token|refresh-token|access-token|client-secret)["']?\s*:\s*["']?([^"'\s,}]+)/gi)) {
    mask(m[2]);
  }
}

export interface ResolvedKubeconfig {
  loaded: LoadedKubeConfig;
  /** The file written from the `kubeconfig` input (deleted by the post step), when the input was given. */
  file?: string;
}

/**
 * Loads the cluster credentials: the `kubeconfig` input's content (written to RUNNER_TEMP at 0600 and loaded from
 * there), else KUBECONFIG / ~/.kube/config. Every credential in it is masked before this returns.
 */
export async function resolveKubeconfig(content: string | undefined, context: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedKubeconfig> {
  let file: string | undefined;
  if (content !== undefined) {
    maskKubeconfigText(content);
    if (looksLikePath(content)) {
      // Said without the value: the input is masked, and a path here usually means a secret was mixed up.
      throw new KubeConfigError(
        "the kubeconfig input looks like a file path, but it takes the kubeconfig's content (for example secrets.KUBECONFIG, plain or base64). " +
          'For a kubeconfig file an earlier step wrote, leave the input empty and set KUBECONFIG to its path (echo "KUBECONFIG=<path>" >> "$GITHUB_ENV"); the action reads it from there',
      );
    }
    const dir = env.RUNNER_TEMP || tmpdir();
    mkdirSync(dir, { recursive: true });
    // The real path: the post step deletes only a file of this name under RUNNER_TEMP's real path.
    file = join(realpathSync(dir), `${KUBECONFIG_FILE_PREFIX}${randomBytes(6).toString('hex')}`);
    // Saved before the write, so the post step removes the file even if this run dies half-way.
    core.saveState(KUBECONFIG_STATE, file);
    writeFileSync(file, decodeContent(content), { mode: 0o600 });
  }
  const { kubeconfigSecrets, loadKubeConfig } = await loadKube();
  const loaded = loadKubeConfig({ ...(file !== undefined ? { path: file } : {}), ...(context !== undefined ? { context } : {}), env });
  for (const secret of kubeconfigSecrets(loaded.kc)) mask(secret);
  maskUserInfo(loaded.server);
  return { loaded, ...(file !== undefined ? { file } : {}) };
}

/**
 * A single word that reads as a path (`~/.kube/config`, `/tmp/kubeconfig`, `./kubeconfig.yaml`, `$HOME/...`) rather
 * than YAML (which has a `:`) or base64 (which never starts with `/`, `~`, `.` or `$`, nor ends in `.yaml`).
 */
export function looksLikePath(content: string): boolean {
  const t = content.trim();
  if (t === '' || t.length > 1024 || /\s/.test(t) || t.includes(':')) return false;
  return /^(~|\$|\.{1,2}\/|\/)/.test(t) || (/[./]/.test(t) && /(^|\/)[\w.-]*(kubeconfig|config|\.ya?ml|\.json)$/i.test(t));
}

/** One Kubernetes Secret to create from the `secrets` input (parsed in the engine, secrets-input.ts). */
export type { SecretInput } from '../engine/index.js';

/**
 * Parses the `secrets` input: one `SECRET_NAME.KEY=value` a line (the secret name is what comes before the last dot
 * of the left-hand side, the value everything after the first `=`, without surrounding spaces); blank lines and `#`
 * comments are skipped.
 * Every value is masked first, so no error message can print one. Throws naming the line (never its value).
 */
export function parseSecrets(text: string | undefined): SecretInput[] {
  if (text === undefined) return [];
  const lines = text.split(/\r?\n/);
  // Every value, however short: the user declared it a secret.
  for (const line of lines) {
    const eq = line.indexOf('=');
    const value = eq > 0 ? line.slice(eq + 1).trim() : '';
    if (value !== '') maskValue(value);
  }
  return parseSecretLines(text);
}
