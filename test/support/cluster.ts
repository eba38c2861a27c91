/**
 * The cluster a test deploys to: the embedded sandbox, or the upstream control plane (test/upstream) with our node
 * joined to it. Which one a test file gets is its vitest project's (vitest.config.ts): `BODYWORK_TEST_TARGET` is set
 * per project, so a suite listed for both runs once against each, unchanged.
 *
 * Both answer the same way to tests: a kubeconfig authenticating with a bearer token (the sandbox's own; on upstream a
 * ServiceAccount's TokenRequest token bound to cluster-admin, so tests that check the token is masked work alike),
 * and host URLs for Service ports through our node's Service proxy.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { persistentCacheDir, sandboxKubeconfig, startSandbox, writeKubeconfig, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';
import { serviceUrlOf } from '../../src/sandbox/network/index.js';
import { NodeHttp } from '../../src/sandbox/node/http.js';
import { startUpstreamCluster } from './upstream-cluster.js';

export type ClusterTarget = 'embedded' | 'upstream';

/** The target of this test file's vitest project (default embedded). */
export function clusterTarget(): ClusterTarget {
  const v = process.env.BODYWORK_TEST_TARGET ?? 'embedded';
  if (v !== 'embedded' && v !== 'upstream') throw new Error(`BODYWORK_TEST_TARGET must be embedded or upstream, got '${v}'`);
  return v;
}

export interface TestCluster {
  target: ClusterTarget;
  /** A kubeconfig (YAML) with the server's CA and a bearer token. */
  kubeconfig: string;
  token: string;
  /** The upstream admin kubeconfig (client certificate, system:masters); the same as `kubeconfig` on the sandbox. */
  adminKubeconfig: string;
  /** A host URL of one Service port (the first unless `port` says), through our node's Service proxy. */
  serviceUrl(name: string, opts?: { namespace?: string; port?: number | string }): Promise<string | undefined>;
  /** Whether pods have their own network namespaces (else they share the host's network). */
  isolated: boolean;
  /** Makes an image's Python packages present on our node (SandboxNode.loadImage). */
  loadImage(image: string, requirements: string[], opts?: { ownPackages?: boolean }): Promise<void>;
  /** The embedded sandbox itself (undefined upstream): for what only the sandbox has, such as fault injection. */
  sandbox?: Sandbox;
  stop(): Promise<void>;
}

export interface TestClusterOptions {
  /** Embedded only: sandbox options (upstream's controllers keep their own timings, e.g. the Job back-off of 10 s). */
  sandbox?: SandboxOptions;
  /** Our node's kubelet, on either control plane. */
  kubelet?: SandboxOptions['kubelet'];
  /** Our node's pod network, on either control plane ('none': pods on the host network). */
  isolation?: SandboxOptions['isolation'];
  kubeconfigPath?: string;
  /**
   * Our node's Python venvs in the shared cache the CLI's sandboxes use (persistentCacheDir: BODYWORK_SANDBOX_CACHE,
   * which vitest.config.ts sets) instead of the cluster's own data dir: for tests whose images install large packages
   * (the object store's moto), so that a machine installs them once.
   */
  sharedPythonCache?: boolean;
}

export async function startTestCluster(target: ClusterTarget = clusterTarget(), o: TestClusterOptions = {}): Promise<TestCluster> {
  const cacheDir = o.sharedPythonCache ? persistentCacheDir() : undefined;
  const python = cacheDir ? { python: { cacheDir } } : {};
  if (target === 'embedded') {
    const sandbox = await startSandbox({ warn: () => {}, ...python, ...o.sandbox, ...(o.isolation !== undefined ? { isolation: o.isolation } : {}), kubelet: { ...o.sandbox?.kubelet, ...o.kubelet }, kubeconfigPath: o.kubeconfigPath });
    return {
      target,
      kubeconfig: sandbox.kubeconfig,
      token: sandbox.token,
      adminKubeconfig: sandbox.kubeconfig,
      serviceUrl: (name, opts) => sandbox.serviceUrl(name, opts),
      isolated: sandbox.network.mode === 'isolated',
      loadImage: (image, requirements, opts) => sandbox.loadImage(image, requirements, opts),
      sandbox,
      stop: () => sandbox.stop(),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'bodywork-upstream-test-'));
  // The node's data (pod volumes, the Python venvs) lies below: the non-root pod user must be able to pass through.
  chmodSync(dir, 0o711);
  const upstream = await startUpstreamCluster({ kubeconfigPath: join(dir, 'admin.kubeconfig'), dataDir: join(dir, 'data'), node: { warn: () => {}, kubelet: o.kubelet, ...(o.isolation !== undefined ? { isolation: o.isolation } : {}), ...python } });
  try {
    const admin = new NodeHttp(upstream.kubeconfig);
    const token = await adminToken(admin);
    const ca = await caOf(upstream.kubeconfig);
    const kubeconfig = sandboxKubeconfig({ url: upstream.server, caCert: ca, token });
    if (o.kubeconfigPath) writeKubeconfig(o.kubeconfigPath, kubeconfig);
    return {
      target,
      kubeconfig,
      token,
      adminKubeconfig: upstream.kubeconfig,
      serviceUrl: (name, opts) => serviceUrlOf(upstream.node.network, name, opts),
      isolated: upstream.node.network.mode === 'isolated',
      loadImage: (image, requirements, opts) => upstream.node.loadImage(image, requirements, opts),
      stop: async () => {
        await upstream.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

const TEST_ADMIN = 'bodywork-test-admin';

/** A TokenRequest token of ServiceAccount kube-system/bodywork-test-admin, bound to cluster-admin. */
async function adminToken(admin: NodeHttp): Promise<string> {
  await admin.request('POST', '/api/v1/namespaces/kube-system/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: TEST_ADMIN } });
  await admin.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: TEST_ADMIN },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: TEST_ADMIN, namespace: 'kube-system' }],
  });
  return serviceAccountToken(admin, 'kube-system', TEST_ADMIN);
}

/** A TokenRequest token (24 h) for a ServiceAccount. */
export async function serviceAccountToken(admin: NodeHttp, namespace: string, name: string): Promise<string> {
  const tr = await admin.request('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 86_400 },
  });
  return tr.status.token;
}

async function caOf(kubeconfig: string): Promise<string> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  const data = kc.getCurrentCluster()?.caData;
  if (!data) throw new Error('the upstream admin kubeconfig has no certificate-authority-data');
  return Buffer.from(data, 'base64').toString('utf8');
}
