/**
 * Loading the cluster credentials: a kubeconfig from a path, from content (YAML/JSON, plain or base64, which is how
 * the action receives it from a secret), from `KUBECONFIG` / `~/.kube/config`, or the in-cluster service account.
 *
 * Exec plugins (EKS `aws eks get-token`, GKE `gke-gcloud-auth-plugin`) and auth providers are run by client-node when
 * a request is made; an exec plugin is checked first, and given KUBERNETES_EXEC_INFO (exec-plugin.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';
import { ExecPluginError, prepareExecPlugin } from './exec-plugin.js';
import { decodeContent, KubeConfigError } from './kubeconfig-content.js';
import { errorLine } from '../errors.js';

export { decodeContent, KubeConfigError } from './kubeconfig-content.js';

export interface LoadKubeConfigOptions {
  /** A kubeconfig file. */
  path?: string;
  /** Kubeconfig content: YAML or JSON, or the same base64-encoded. Wins over `path`. */
  content?: string;
  /** Context to use instead of the file's current-context. */
  context?: string;
  /**
   * Only the in-cluster service account, whatever kubeconfig files exist (the in-cluster runner: its pod's HOME or
   * KUBECONFIG must not decide which cluster it deploys to).
   */
  inCluster?: boolean;
  /** Environment to read `KUBECONFIG`, `HOME` and `KUBERNETES_SERVICE_HOST` from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Where the kubeconfig came from, for logs. */
export type KubeConfigSource = 'content' | 'path' | 'KUBECONFIG' | '~/.kube/config' | 'in-cluster';

export interface LoadedKubeConfig {
  kc: KubeConfig;
  source: KubeConfigSource;
  /** The file(s) read, when any. */
  files: string[];
  context: string;
  /** The context's namespace, if it names one. */
  namespace?: string;
  /** The cluster server URL. */
  server: string;
}

/**
 * Loads a kubeconfig, in this order: `content`, `path`, `KUBECONFIG` (a `:`-separated list, merged as kubectl does:
 * the first file to name a context, cluster, user or current-context wins), `~/.kube/config`, and last the
 * in-cluster service account (`KUBERNETES_SERVICE_HOST`). Then selects `context` (or the current context) and checks
 * that it points at a cluster and a user.
 */
export function loadKubeConfig(opts: LoadKubeConfigOptions = {}): LoadedKubeConfig {
  const env = opts.env ?? process.env;
  const kc = new KubeConfig();
  let source: KubeConfigSource;
  let files: string[] = [];

  if (opts.inCluster === true) {
    if (!env.KUBERNETES_SERVICE_HOST) throw new KubeConfigError('not running inside a cluster: KUBERNETES_SERVICE_HOST is not set');
    const dir = env.BODYWORK_SERVICEACCOUNT_DIR || SERVICE_ACCOUNT_DIR;
    for (const f of ['token', 'ca.crt']) if (!existsSync(join(dir, f))) throw new KubeConfigError(`in-cluster config: ${join(dir, f)} does not exist (is a service account token mounted?)`);
    loadInCluster(kc, env);
    source = 'in-cluster';
  } else if (opts.content !== undefined && opts.content.trim() !== '') {
    loadString(kc, decodeContent(opts.content), 'the kubeconfig content');
    source = 'content';
  } else if (opts.path) {
    loadFile(kc, opts.path);
    source = 'path';
    files = [opts.path];
  } else if (env.KUBECONFIG && env.KUBECONFIG.trim() !== '') {
    files = env.KUBECONFIG.split(delimiter).filter((f) => f !== '');
    const present = files.filter((f) => existsSync(f));
    if (present.length === 0) throw new KubeConfigError(`KUBECONFIG names no existing file ('${env.KUBECONFIG}')`);
    files = present;
    loadMerged(kc, present);
    source = 'KUBECONFIG';
  } else {
    const home = env.HOME || env.USERPROFILE || homedir();
    const def = join(home, '.kube', 'config');
    if (existsSync(def)) {
      loadFile(kc, def);
      source = '~/.kube/config';
      files = [def];
    } else if (env.KUBERNETES_SERVICE_HOST) {
      loadInCluster(kc, env);
      source = 'in-cluster';
    } else {
      throw new KubeConfigError(
        `no kubeconfig found: pass one (the 'kubeconfig' input, or --kubeconfig), set KUBECONFIG, create ${def}, or run inside a cluster`,
      );
    }
  }

  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      throw new KubeConfigError(`context '${opts.context}' is not in the kubeconfig (available contexts: ${listContexts(kc)})`);
    }
    kc.setCurrentContext(opts.context);
  }
  const contextName = kc.getCurrentContext();
  if (!contextName) {
    throw new KubeConfigError(`the kubeconfig sets no current-context; choose one of: ${listContexts(kc)}`);
  }
  const ctx = kc.getContextObject(contextName);
  if (!ctx) {
    throw new KubeConfigError(`current-context '${contextName}' is not in the kubeconfig (available contexts: ${listContexts(kc)})`);
  }
  const cluster = kc.getCluster(ctx.cluster);
  if (!cluster) throw new KubeConfigError(`context '${contextName}' refers to cluster '${ctx.cluster}', which the kubeconfig does not define`);
  if (!cluster.server) throw new KubeConfigError(`cluster '${cluster.name}' has no server URL`);
  if (ctx.user && !kc.getUser(ctx.user)) {
    throw new KubeConfigError(`context '${contextName}' refers to user '${ctx.user}', which the kubeconfig does not define`);
  }
  try {
    prepareExecPlugin(kc, env);
  } catch (e) {
    if (e instanceof ExecPluginError) throw new KubeConfigError(e.message);
    throw e;
  }
  const out: LoadedKubeConfig = { kc, source, files, context: contextName, server: cluster.server };
  if (ctx.namespace) out.namespace = ctx.namespace;
  return out;
}

/** Where a pod's service account token, CA and namespace are mounted (the kubelet's kube-api-access volume). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The in-cluster config, as client-node's loadFromCluster builds it (the token read from its file, so a rotated
 * token is picked up), from `BODYWORK_SERVICEACCOUNT_DIR` when set (the runner mounts its own token volume, whose
 * path a node may rewrite), else the standard directory; host and port from `env`.
 */
function loadInCluster(kc: KubeConfig, env: NodeJS.ProcessEnv): void {
  const dir = env.BODYWORK_SERVICEACCOUNT_DIR || SERVICE_ACCOUNT_DIR;
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT || '443';
  const server = `${['80', '8080', '8001'].includes(port) ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const namespace = readQuietly(join(dir, 'namespace'))?.trim();
  kc.loadFromOptions({
    clusters: [{ name: 'inCluster', server, caFile: join(dir, 'ca.crt'), skipTLSVerify: false }],
    users: [{ name: 'inClusterUser', authProvider: { name: 'tokenFile', config: { tokenFile: join(dir, 'token') } } }],
    contexts: [{ name: 'inClusterContext', cluster: 'inCluster', user: 'inClusterUser', ...(namespace ? { namespace } : {}) }],
    currentContext: 'inClusterContext',
  });
}

function listContexts(kc: KubeConfig): string {
  const names = kc.getContexts().map((c) => c.name);
  return names.length > 0 ? names.map((n) => `'${n}'`).join(', ') : 'none';
}

function loadString(kc: KubeConfig, text: string, what: string): void {
  try {
    kc.loadFromString(text);
  } catch (e) {
    throw new KubeConfigError(`${what} is not a valid kubeconfig: ${errorLine(e)}`);
  }
  // A YAML scalar or an empty document loads "successfully" into nothing.
  if (kc.getContexts().length === 0 && kc.getClusters().length === 0) {
    throw new KubeConfigError(`${what} is not a valid kubeconfig: it defines no clusters and no contexts`);
  }
}

function loadFile(kc: KubeConfig, file: string): void {
  if (!existsSync(file)) throw new KubeConfigError(`kubeconfig file '${file}' does not exist`);
  try {
    kc.loadFromFile(file);
  } catch (e) {
    throw new KubeConfigError(`kubeconfig file '${file}' is not a valid kubeconfig: ${errorLine(e)}`);
  }
}

/** kubectl's merge of several files: the first definition of each name, and the first current-context, win. */
function loadMerged(kc: KubeConfig, files: string[]): void {
  const clusters: Cluster[] = [];
  const users: User[] = [];
  const contexts: Context[] = [];
  let current: string | undefined;
  for (const f of files) {
    const one = new KubeConfig();
    loadFile(one, f);
    for (const c of one.getClusters()) if (!clusters.some((x) => x.name === c.name)) clusters.push(c);
    for (const u of one.getUsers()) if (!users.some((x) => x.name === u.name)) users.push(u);
    for (const c of one.getContexts()) if (!contexts.some((x) => x.name === c.name)) contexts.push(c);
    current ||= one.getCurrentContext() || undefined;
  }
  kc.loadFromOptions({ clusters, users, contexts, currentContext: current ?? '' });
}

/**
 * Every credential string in the kubeconfig, for the action to mask in logs: tokens (also token files' contents),
 * passwords, client certificate and key data, exec plugin env values, and auth-provider config values that are
 * secrets (tokens, client secrets). Values shorter than 4 characters are left out (masking them would garble logs);
 * multi-line values (key files) come whole and line by line.
 */
export function kubeconfigSecrets(kc: KubeConfig): string[] {
  const out = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v !== 'string' || v.trim().length < 4) return;
    out.add(v.trim());
    // Log masking works line by line: also give each line of a multi-line secret (a PEM key), minus PEM armour.
    if (v.includes('\n')) for (const line of v.split(/\r?\n/)) if (line.trim().length >= 4 && !line.startsWith('-----')) out.add(line.trim());
  };
  for (const u of kc.getUsers()) {
    add(u.token);
    add(u.password);
    add(u.keyData);
    add(u.certData);
    // Raw user entries keep unknown keys (e.g. token-file); FileAuth reads authProvider.config.tokenFile.
    const exec = u.exec as { env?: { name?: string; value?: unknown }[] | null } | undefined;
    for (const e of exec?.env ?? []) add(e?.value);
    const ap = u.authProvider as { config?: Record<string, unknown> } | undefined;
    for (const [k, v] of Object.entries(ap?.config ?? {})) {
      if (/token|secret|password|key/i.test(k) && !/file|path|cmd|command|url|expiry|name/i.test(k)) add(v);
      if (/tokenfile|token-file/i.test(k) && typeof v === 'string') add(readQuietly(v));
    }
    if (u.keyFile) add(readQuietly(u.keyFile));
  }
  return [...out];
}

function readQuietly(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
