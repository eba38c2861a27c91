/**
 * Exec credential plugins (`users[].user.exec`: `aws eks get-token`, `gke-gcloud-auth-plugin`, `kubelogin`), before
 * client-node runs one at the first request:
 * - a plugin that is not installed is found now, with the kubeconfig's own `installHint`, instead of surfacing later
 *   as a bare `spawn ... ENOENT` from inside a request;
 * - the plugin gets `KUBERNETES_EXEC_INFO` as kubectl gives it (client-go's exec.go): an ExecCredential with
 *   `spec.interactive: false` (no terminal here), and `spec.cluster` when the plugin asks for it with
 *   `provideClusterInfo: true` (the server, its CA, and the cluster's `client.authentication.k8s.io/exec` extension).
 *   client-node sets neither; it passes `exec.env`, so the variable goes there (a value the kubeconfig sets wins).
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { Cluster, KubeConfig, User } from '@kubernetes/client-node';

/** The raw `exec` stanza (client-node keeps what the kubeconfig says). */
interface ExecConfig {
  command?: string;
  args?: string[];
  env?: { name: string; value: string }[] | null;
  apiVersion?: string;
  installHint?: string;
  provideClusterInfo?: boolean;
}

/** A plugin that cannot run here; the message says which and how to install it. */
export class ExecPluginError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExecPluginError';
  }
}

/**
 * Checks the current user's exec plugin and gives it KUBERNETES_EXEC_INFO. Throws ExecPluginError when its command is
 * not on PATH (or not executable); does nothing for users without one.
 */
export function prepareExecPlugin(kc: KubeConfig, env: NodeJS.ProcessEnv = process.env): void {
  const user: User | null = kc.getCurrentUser();
  const exec = (user as { exec?: unknown } | null)?.exec as ExecConfig | undefined;
  if (!user || !exec?.command) return;
  const ownPath = exec.env?.find((e) => e.name === 'PATH')?.value;
  if (!findCommand(exec.command, ownPath ?? env.PATH ?? '')) {
    const hint = exec.installHint?.trim();
    throw new ExecPluginError(
      `the kubeconfig's user '${user.name}' gets its credentials from the exec plugin '${exec.command}', which is not installed here` +
        (hint ? `: ${hint.replace(/\s*\n\s*/g, ' ')}` : ' (install it, or put it on PATH, before this step)'),
    );
  }
  if (exec.env?.some((e) => e.name === 'KUBERNETES_EXEC_INFO')) return;
  const cluster = kc.getCurrentCluster();
  const info = {
    apiVersion: exec.apiVersion ?? 'client.authentication.k8s.io/v1beta1',
    kind: 'ExecCredential',
    spec: { interactive: false, ...(exec.provideClusterInfo && cluster ? { cluster: clusterInfo(cluster) } : {}) },
  };
  exec.env = [...(exec.env ?? []), { name: 'KUBERNETES_EXEC_INFO', value: JSON.stringify(info) }];
}

/** client-go's clientauthentication Cluster: what a plugin may need to know of the cluster it authenticates to. */
function clusterInfo(cluster: Cluster): Record<string, unknown> {
  const raw = cluster as Cluster & { extensions?: { name: string; extension: unknown }[] };
  let caData = cluster.caData;
  if (!caData && cluster.caFile) {
    try {
      caData = readFileSync(cluster.caFile).toString('base64');
    } catch {
      caData = undefined; // the request would fail on it too, with client-node's message
    }
  }
  const config = raw.extensions?.find((e) => e.name === 'client.authentication.k8s.io/exec')?.extension;
  return {
    server: cluster.server,
    ...(cluster.tlsServerName ? { 'tls-server-name': cluster.tlsServerName } : {}),
    ...(cluster.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
    ...(caData ? { 'certificate-authority-data': caData } : {}),
    ...(cluster.proxyUrl ? { 'proxy-url': cluster.proxyUrl } : {}),
    ...(config !== undefined ? { config } : {}),
  };
}

/** Whether `command` runs: a path that is an executable file, or a name found on `searchPath`. */
function findCommand(command: string, searchPath: string): boolean {
  const candidates = command.includes('/') ? [command] : searchPath.split(delimiter).filter((d) => d !== '' && isAbsolute(d)).map((d) => join(d, command));
  return candidates.some((p) => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
}
