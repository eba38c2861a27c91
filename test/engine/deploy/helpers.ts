/** Deploy-engine tests: a sandbox, a client talking to it through its kubeconfig (HTTPS, token), and small projects written to temp dirs. */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { chmod, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadProject } from '../../../src/engine/config/load.js';
import type { ProjectSpec } from '../../../src/engine/config/spec.js';
import { KubeClient, loadKubeConfig } from '../../../src/engine/kube/index.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { bundleProject, planProject, type DeployPlan, type PlanOptions } from '../../../src/engine/plan/index.js';
import { clusterTarget, startTestCluster, type TestCluster, type TestClusterOptions } from '../../support/cluster.js';

export interface DeploySandbox {
  /** The cluster under test (the embedded sandbox or the upstream control plane: the file's vitest project says which). */
  sandbox: TestCluster;
  client: KubeClient;
  stop(): Promise<void>;
}

/** Namespace `ns` holding a Deployment `name` someone else made (its own selector, which a deploy cannot change). */
export async function foreignDeployment(client: KubeClient, ns: string, name: string): Promise<void> {
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const labels = { app: 'theirs' };
  await client.create({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: { replicas: 0, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
  });
}

/** `Kind/name` of every object a deploy may write in `ns`, sorted; the namespace's own defaults left out. */
export async function namespaceObjects(client: KubeClient, ns: string): Promise<string[]> {
  const kinds = ['ConfigMap', 'Secret', 'ServiceAccount', 'Job', 'Deployment', 'Service'];
  const all = await Promise.all(kinds.map(async (k) => (await client.list(k, ns)).items.map((o) => `${k}/${o.metadata?.name}`)));
  return all.flat().filter((o) => !['ConfigMap/kube-root-ca.crt', 'ServiceAccount/default'].includes(o)).sort();
}

/**
 * The cluster of this file's vitest project and a client through its kubeconfig (HTTPS, token). The embedded sandbox
 * backs off failed Job pods 100 ms instead of 10 s; upstream's Job controller keeps its own 10 s. `kubelet` and
 * `isolation` options reach our node on either control plane.
 */
export async function startDeploySandbox(options: Pick<TestClusterOptions, 'kubelet' | 'isolation'> = {}): Promise<DeploySandbox> {
  const sandbox = await startTestCluster(clusterTarget(), { ...options, sandbox: { controllers: { jobBackoffBaseMs: 100 } } });
  const client = KubeClient.create(loadKubeConfig({ content: sandbox.kubeconfig }).kc, new RecordingLogger(), { retry: { baseMs: 20, capMs: 200 } });
  return { sandbox, client, stop: () => sandbox.stop() };
}

/**
 * The usual set-up of a deploy suite in one call: starts this file's test cluster before its tests and stops it after
 * them, removing the directories pushed onto `dirs`. The answer's `client` and `sandbox` are the started cluster's
 * (use them inside tests and hooks).
 */
export function useDeploySandbox(
  options: Pick<TestClusterOptions, 'kubelet' | 'isolation'> = {},
): DeploySandbox & { dirs: string[]; kubeconfigFile: string; project(files: Record<string, string>): Promise<string> } {
  let started: DeploySandbox | undefined;
  let kubeconfigFile = '';
  const dirs: string[] = [];
  beforeAll(async () => {
    started = await startDeploySandbox(options);
    // For commands run as a user would (kubectl, the CLI): the kubeconfig in a file of its own.
    const dir = await writeProject({});
    dirs.push(dir);
    kubeconfigFile = join(dir, 'kubeconfig');
    await writeFile(kubeconfigFile, started.sandbox.kubeconfig, { mode: 0o600 });
  });
  afterAll(async () => {
    await started?.stop();
    await Promise.all(dirs.map(removeProject));
  });
  const cluster = (): DeploySandbox => {
    if (!started) throw new Error('the test cluster starts in beforeAll: use it inside tests and hooks');
    return started;
  };
  return {
    get sandbox() {
      return cluster().sandbox;
    },
    get client() {
      return cluster().client;
    },
    get kubeconfigFile() {
      cluster();
      return kubeconfigFile;
    },
    stop: () => cluster().stop(),
    dirs,
    /** Writes a project (writeProject) that is removed after the file's tests. */
    async project(files: Record<string, string>): Promise<string> {
      const dir = await writeProject(files);
      dirs.push(dir);
      return dir;
    },
  };
}

/** Writes `files` (path -> content) into a new temp dir and returns it. */
export async function writeProject(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bodywork-deploy-test-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

/**
 * A new temp dir that stage pods and the test both write into. As root the sandbox runs pods as a non-root user
 * (65534 by default), and mkdtemp's 0700 would shut them out: opening it is the test's business, as a hostPath's
 * permissions are the node admin's.
 */
export async function sharedDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bodywork-deploy-shared-'));
  await chmod(dir, 0o777);
  return dir;
}

/**
 * Serves the git repository `repo` to stage pods as a git server would: a bare clone in a new directory that the
 * non-root pod user (`owner`, 65534 by default, when the tests run as root) can read, owned by that user so git's
 * safe.directory check passes, as a served repository belongs to its server. Returns the bare clone's path (clone it
 * as `file://PATH`).
 */
export async function serveGitRepository(repo: string, name = 'repo.git', owner = 65534): Promise<{ server: string; bare: string }> {
  const server = await mkdtemp(join(tmpdir(), 'bodywork-deploy-git-'));
  const bare = join(server, name);
  await mkdir(dirname(bare), { recursive: true });
  execFileSync('git', ['clone', '-q', '--bare', repo, bare]);
  await chmod(server, 0o755);
  if (process.getuid?.() === 0) execFileSync('chown', ['-R', `${owner}:${owner}`, bare]);
  return { server, bare };
}

export async function removeProject(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Loads, bundles and plans the project in `dir` (throws on config problems). */
export async function planDir(dir: string, options: PlanOptions = {}): Promise<{ spec: ProjectSpec; plan: DeployPlan }> {
  const { spec, problems } = await loadProject(dir);
  if (!spec) throw new Error(`bad test project: ${problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('; ')}`);
  const codeBundle = await bundleProject(spec);
  return { spec, plan: planProject(spec, { ...options, codeBundle }) };
}

export interface BatchStageDef {
  /** Python source of the stage's main.py. */
  script: string;
  retries?: number;
  maxSeconds?: number;
  secrets?: Record<string, string>;
  /** cpu_request (default 0.1). */
  cpu?: number;
  /** Makes it a service stage (the script must listen on `port`). */
  service?: { port: number; replicas?: number; maxStartupSeconds?: number; ingress?: boolean };
}

/** A YAML project (schema 1.1) of batch (and service) stages: `dag` like `a >> b,c`. */
export function batchProject(name: string, dag: string, stages: Record<string, BatchStageDef>, extra: { namespace?: string; runOnFailure?: string } = {}): Record<string, string> {
  const lines = [
    'version: "1.1"',
    'pipeline:',
    `  name: ${name}`,
    '  docker_image: bodyworkml/bodywork-core:latest',
    `  DAG: ${dag}`,
    ...(extra.namespace ? [`  namespace: ${extra.namespace}`] : []),
    ...(extra.runOnFailure ? [`  run_on_failure: ${extra.runOnFailure}`] : []),
    'stages:',
  ];
  const files: Record<string, string> = {};
  for (const [stage, def] of Object.entries(stages)) {
    const dir = stage.replace(/-/g, '_');
    files[`${dir}/main.py`] = def.script;
    lines.push(`  ${stage}:`, `    executable_module_path: ${dir}/main.py`, `    cpu_request: ${def.cpu ?? 0.1}`, '    memory_request_mb: 50');
    if (def.service) {
      lines.push(
        '    service:',
        `      max_startup_time_seconds: ${def.service.maxStartupSeconds ?? 30}`,
        `      replicas: ${def.service.replicas ?? 1}`,
        `      port: ${def.service.port}`,
        `      ingress: ${def.service.ingress ?? false}`,
      );
    } else {
      lines.push('    batch:', `      max_completion_time_seconds: ${def.maxSeconds ?? 60}`, `      retries: ${def.retries ?? 0}`);
    }
    if (def.secrets) {
      lines.push('    secrets:');
      for (const [env, secret] of Object.entries(def.secrets)) lines.push(`      ${env}: ${secret}`);
    }
  }
  lines.push('logging:', '  log_level: INFO', '');
  files['bodywork.yaml'] = lines.join('\n');
  return files;
}

let n = 0;
/** A run id no other run in the test process uses. */
export function newRunId(): string {
  n++;
  return `t${n}${Math.random().toString(36).slice(2, 6)}`;
}

/** Python for a service stage: an HTTP server on `port` answering every GET with `body` (after writing its pid to `marker`, if given). */
export function httpServer(port: number, body: string, marker?: string): string {
  return [
    'import http.server, os',
    ...(marker ? [`open(${JSON.stringify(marker)}, "w").write(str(os.getpid()))`] : []),
    'class H(http.server.BaseHTTPRequestHandler):',
    '    def do_GET(self):',
    `        data = ${JSON.stringify(body)}.encode()`,
    '        self.send_response(200)',
    '        self.send_header("Content-Length", str(len(data)))',
    '        self.end_headers()',
    '        self.wfile.write(data)',
    `print("serving on ${port}", flush=True)`,
    `http.server.HTTPServer(("", ${port}), H).serve_forever()`,
    '',
  ].join('\n');
}
