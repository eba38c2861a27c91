/**
 * The sandbox's kubeconfig: its HTTPS URL, the CA that signed its serving certificate, and its bearer token. kubectl
 * sends credentials only over TLS (client-go's clientcmd reads auth only for secure servers), so TLS is what makes the
 * token work with kubectl; client-node verifies the server against certificate-authority-data too.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

export const SANDBOX_CONTEXT = 'bodywork-sandbox';

/** What a client needs to reach one API server (ApiServer satisfies it). */
export interface SandboxEndpoint {
  url: string;
  caCert: string;
  token: string;
}

/** Renders the kubeconfig (YAML) for the API server at `server`, its context on `namespace`. */
export function sandboxKubeconfig(server: SandboxEndpoint, namespace = 'default'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: SANDBOX_CONTEXT, cluster: { server: server.url, 'certificate-authority-data': Buffer.from(server.caCert).toString('base64') } }],
    users: [{ name: SANDBOX_CONTEXT, user: { token: server.token } }],
    contexts: [{ name: SANDBOX_CONTEXT, context: { cluster: SANDBOX_CONTEXT, user: SANDBOX_CONTEXT, namespace } }],
    'current-context': SANDBOX_CONTEXT,
  });
}

/**
 * Writes a kubeconfig readable by its owner only: 0600, and any directory it has to create 0700 (an existing one is
 * left as it is). Written beside the target and renamed over it, so an existing file's wider mode or a symlink at
 * the path never receives the token.
 */
export function writeKubeconfig(path: string, content: string): void {
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, content, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
