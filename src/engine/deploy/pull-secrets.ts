/**
 * The image pull Secret made from registry credentials (the action's `registry-server`, `registry-username`,
 * `registry-password` inputs; the CLI's `--registry-server`, `--registry-username` and BODYWORK_REGISTRY_PASSWORD):
 * a `kubernetes.io/dockerconfigjson` Secret named REGISTRY_SECRET, applied with the other given secrets under the deploy
 * lock; and the check, before any stage starts, that every image pull secret of the plan exists. Callers mask every form of the password first (`registrySecretForms`): the docker config holds it as
 * base64 of `user:password`, and the API request carries the whole config base64-encoded again.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { REGISTRY_SECRET } from '../plan/pull-secrets.js';
import type { SecretValues } from './input-secrets.js';
import type { DeployContext } from './types.js';

export interface RegistryCredentials {
  /** Registry host as image references name it (`ghcr.io`, `123.dkr.ecr.eu-west-2.amazonaws.com`), optionally with a scheme. */
  server: string;
  username: string;
  password: string;
}

/** The registry key of the docker config: the server without scheme or trailing slashes. */
export function registryKey(server: string): string {
  return server.trim().replace(/^https?:\/\//i, '').replace(/\/+$/, '');
}

/** Problems with the credentials (never quoting the password), or undefined. */
export function checkRegistryCredentials(c: Partial<RegistryCredentials>): string | undefined {
  const given = [c.server, c.username, c.password].filter((v) => v !== undefined && v !== '').length;
  if (given === 0) return undefined;
  if (c.server === undefined || c.server === '') return 'registry credentials need the registry server (e.g. ghcr.io)';
  if (c.username === undefined || c.username === '') return 'registry credentials need a username (for ghcr.io with the GitHub token: github.actor)';
  if (c.password === undefined || c.password === '') return 'registry credentials need a password or token';
  const key = registryKey(c.server);
  if (key === '' || /[\s"\\]/.test(key)) return `registry server '${c.server}' is not a registry host`;
  if (/[\r\n]/.test(c.username) || c.username.includes(':')) return 'the registry username must be one line without a colon';
  if (/[\r\n]/.test(c.password)) return 'the registry password must be one line';
  return undefined;
}

/** The `.dockerconfigjson` document: `{"auths": {"<server>": {"username", "password", "auth"}}}`, as `kubectl create secret docker-registry` writes it. */
export function dockerConfigJson(c: RegistryCredentials): string {
  const auth = Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64');
  return JSON.stringify({ auths: { [registryKey(c.server)]: { username: c.username, password: c.password, auth } } });
}

/** The Secret to apply (type kubernetes.io/dockerconfigjson, key `.dockerconfigjson`). */
export function registrySecret(c: RegistryCredentials): SecretValues {
  return { name: REGISTRY_SECRET, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': dockerConfigJson(c) } };
}

/**
 * Every text that would give the password away, to mask before anything is logged: the password, its base64, the
 * base64 of `user:password` (the config's `auth`), the config itself and its base64 (the Secret's data as sent).
 */
export function registrySecretForms(c: RegistryCredentials): string[] {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  const config = dockerConfigJson(c);
  return [c.password, b64(c.password), b64(`${c.username}:${c.password}`), config, b64(config)];
}

/** Secret types the kubelet reads registry credentials from. */
const DOCKER_SECRET_TYPES = new Set(['kubernetes.io/dockerconfigjson', 'kubernetes.io/dockercfg']);

/**
 * One message per image pull secret of the plan that is missing or holds no registry credentials; empty when all are
 * in order. A missing one would otherwise only show as an unauthorized pull (the kubelet pulls without it).
 */
export async function checkPullSecrets(ctx: Pick<DeployContext, 'client' | 'plan' | 'namespace' | 'signal'>): Promise<string[]> {
  const names = ctx.plan.imagePullSecrets ?? [];
  const found = await Promise.all(names.map((name) => ctx.client.find<V1Secret>('Secret', ctx.namespace, name, { signal: ctx.signal })));
  return names.flatMap((name, i) => {
    const problem = pullSecretProblem(name, found[i], ctx.namespace);
    return problem !== undefined ? [problem] : [];
  });
}

/** Why Secret `name` (undefined when missing) holds no registry credentials for the kubelet; undefined when it does. */
export function pullSecretProblem(name: string, secret: Pick<V1Secret, 'type'> | undefined, namespace: string): string | undefined {
  if (secret === undefined) return `image pull secret "${name}" does not exist in namespace "${namespace}"`;
  if (!DOCKER_SECRET_TYPES.has(secret.type ?? '')) {
    return `image pull secret "${name}" has type "${secret.type ?? 'Opaque'}", not kubernetes.io/dockerconfigjson (create it with kubectl create secret docker-registry)`;
  }
  return undefined;
}
