/**
 * The `git` code source: instead of mounting the code bundle's ConfigMaps, every stage pod clones the repository
 * at exactly the deployed commit into an `emptyDir` with an init container, and the stage container mounts that
 * directory (the project's subdirectory of it) read-only at `CODE_MOUNT_PATH`, from where its command copies it into
 * its writable working copy (command.ts), as it does the bundle. For projects too large for ConfigMaps. The init
 * container's script:
 *
 *     git init; git remote add origin "$GIT_URL"
 *     git fetch --depth 1 origin "$GIT_COMMIT"; git checkout FETCH_HEAD
 *
 * A token (from a Secret's `token` key, never in the URL, the command or the log) goes to git as an
 * `http.extraHeader` set through GIT_CONFIG_* environment variables, as actions/checkout sends it.
 *
 * The `emptyDir` belongs to the kubelet (root), while the pod may run as another user (the in-cluster runner's 1000,
 * an override's runAsUser): git (2.35.2 and later) refuses such a "dubious ownership" checkout. The container does
 * nothing but this clone, so it trusts every directory (`safe.directory=*`, in the command-line scope git honours).
 */
import { posix } from 'node:path';
import type { V1Container, V1EnvVar, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { CODE_MOUNT_PATH } from './command.js';

/** The init container's image: any image with `git`, `sh` and `base64` will do. */
export const GIT_IMAGE = 'alpine/git:2.45';
/** Name of the init container that fetches the code. */
export const GIT_INIT_CONTAINER_NAME = 'fetch-code';
/** The key of the token Secret that holds the token. */
export const GIT_TOKEN_SECRET_KEY = 'token';
/** Where the init container clones the repository (the stage container mounts it, or its subdirectory, at CODE_MOUNT_PATH). */
export const GIT_CHECKOUT_PATH = '/bodywork/checkout';
/** Name of the `emptyDir` volume holding the checkout. */
export const GIT_VOLUME_NAME = 'bodywork-checkout';

/** The init container's `sh -c` script; everything variable comes from its environment. */
export function gitFetchScript(): string {
  return [
    'set -eu',
    `cd ${GIT_CHECKOUT_PATH}`,
    "export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*'",
    'if [ -n "${GIT_TOKEN:-}" ]; then',
    `  GIT_CONFIG_VALUE_1="Authorization: Basic $(printf 'x-access-token:%s' "$GIT_TOKEN" | base64 | tr -d '\\n')"`,
    '  export GIT_CONFIG_COUNT=2 GIT_CONFIG_KEY_1=http.extraHeader GIT_CONFIG_VALUE_1',
    'fi',
    'echo "fetching commit $GIT_COMMIT from $GIT_URL"',
    'git init -q .',
    'git remote add origin "$GIT_URL"',
    'git fetch -q --depth 1 origin "$GIT_COMMIT"',
    'git -c advice.detachedHead=false checkout -q FETCH_HEAD',
    'if [ -n "${PROJECT_SUBDIR:-}" ] && [ ! -d "$PROJECT_SUBDIR" ]; then',
    '  echo "the repository has no directory $PROJECT_SUBDIR at commit $GIT_COMMIT" >&2',
    '  exit 1',
    'fi',
    'echo "checked out $(git rev-parse HEAD)"',
  ].join('\n');
}

export interface GitCode {
  volume: V1Volume;
  /** The stage container's read-only mount of the checkout (its project subdirectory) at CODE_MOUNT_PATH. */
  mount: V1VolumeMount;
  initContainer: V1Container;
}

/** The volume, the stage container's mount and the init container of the `git` code source (options already checked). */
export function gitCode(source: { url: string; commit: string; tokenSecret?: string }, repoSubdir?: string): GitCode {
  const env: V1EnvVar[] = [
    { name: 'GIT_URL', value: source.url },
    { name: 'GIT_COMMIT', value: source.commit },
    // Never wait for a password on a terminal that is not there.
    { name: 'GIT_TERMINAL_PROMPT', value: '0' },
    ...(repoSubdir !== undefined ? [{ name: 'PROJECT_SUBDIR', value: repoSubdir }] : []),
    ...(source.tokenSecret !== undefined ? [{ name: 'GIT_TOKEN', valueFrom: { secretKeyRef: { name: source.tokenSecret, key: GIT_TOKEN_SECRET_KEY } } }] : []),
  ];
  return {
    volume: { name: GIT_VOLUME_NAME, emptyDir: {} },
    mount: { name: GIT_VOLUME_NAME, mountPath: CODE_MOUNT_PATH, readOnly: true, ...(repoSubdir !== undefined ? { subPath: repoSubdir } : {}) },
    initContainer: {
      name: GIT_INIT_CONTAINER_NAME,
      image: GIT_IMAGE,
      command: ['/bin/sh', '-c', gitFetchScript()],
      env,
      volumeMounts: [{ name: GIT_VOLUME_NAME, mountPath: GIT_CHECKOUT_PATH }],
    },
  };
}

/** Problems with the `git` code source's options, or undefined; `repoSubdir` comes back normalized (undefined for the root). */
export function checkGitSource(source: { url: string; commit: string; tokenSecret?: string }, repoSubdir?: string): { error: string } | { repoSubdir?: string } {
  if (source.url.trim() === '' || /\s/.test(source.url)) return { error: `git URL '${source.url}' is not a valid repository URL` };
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(source.url)) {
    return { error: 'the git URL must not hold credentials: put the token in a Secret and name it as the token secret' };
  }
  if (!/^[0-9a-f]{40}$/.test(source.commit)) return { error: `the git code source needs the full 40-hex commit SHA to check out, got '${source.commit}'` };
  if (source.tokenSecret !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(source.tokenSecret)) {
    return { error: `git token secret '${source.tokenSecret}' is not a valid Secret name` };
  }
  if (repoSubdir === undefined) return {};
  const dir = posix.normalize(repoSubdir.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (dir === '.' || dir === '') return {};
  if (dir.startsWith('/') || dir === '..' || dir.startsWith('../')) return { error: `repository subdirectory '${repoSubdir}' must be a path inside the repository` };
  return { repoSubdir: dir };
}
