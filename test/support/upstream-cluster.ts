/**
 * An upstream Kubernetes control plane (test/upstream: etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler from one pinned release) with our sandbox node joined to it — for `npm run upstream-cluster` and
 * for test harnesses that want one in-process.
 *
 * The control plane's contract (test/upstream/main.go): `--data-dir DIR --kubeconfig FILE --node-name N --node-ip IP`
 * writes FILE (admin), DIR/node.kubeconfig (system:node:N in system:nodes), DIR/kubelet-serving.{crt,key} and
 * DIR/ca.crt (the CA of the API server's kubelet client certificate), then prints `ready {json}` on stdout.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { attachNode, type NodeOptions, type SandboxNode } from '../../src/sandbox/node/index.js';
import { NodeHttp } from '../../src/sandbox/node/http.js';

const UPSTREAM_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'upstream');
export const UPSTREAM_BINARY = path.join(UPSTREAM_DIR, 'bin', 'upstream-control-plane');

export interface UpstreamClusterOptions {
  /** Where the admin kubeconfig goes. */
  kubeconfigPath: string;
  /** Control-plane state and pod data (default: a temporary directory, removed on stop). */
  dataDir?: string;
  nodeName?: string;
  nodeIP?: string;
  /** Build the Go program first (default true; a no-op when it is up to date). */
  build?: boolean;
  /** Node options beyond what the control plane gives (kubelet timings, isolation, …). */
  node?: Partial<Omit<NodeOptions, 'kubeconfig' | 'nodeName' | 'dataDir' | 'hostIP' | 'serving'>>;
  /** How long to wait for `ready` and for the Node to turn Ready (default 180 s: a cold etcd on a loaded machine). */
  timeoutMs?: number;
  log?: (m: string) => void;
}

export interface UpstreamCluster {
  kubeconfigPath: string;
  /** The admin kubeconfig's content. */
  kubeconfig: string;
  server: string;
  /** The control plane's version (`v1.3x.y`). */
  version: string;
  dataDir: string;
  node: SandboxNode;
  /** Stops our node (every pod process) and then the control plane; resolves once all are gone. */
  stop(): Promise<void>;
}

/** Builds test/upstream/bin/upstream-control-plane when needed (the script skips an up-to-date binary). */
export function buildUpstream(log: (m: string) => void = () => {}): void {
  const r = spawnSync('bash', [path.join(UPSTREAM_DIR, 'build.sh')], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.stdout) log(r.stdout.trimEnd());
  if (r.status !== 0) throw new Error(`test/upstream/build.sh failed (exit ${r.status}):\n${(r.stderr ?? '').slice(-4000)}`);
}

function waitReady(cp: ChildProcess, timeoutMs: number, log: (m: string) => void): Promise<{ kubeconfig: string; dataDir: string; server: string; version: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the upstream control plane printed no ready line within ${timeoutMs} ms`)), timeoutMs);
    const rl = readline.createInterface({ input: cp.stdout! });
    rl.on('line', (line) => {
      if (!line.startsWith('ready ')) return log(`control plane: ${line}`);
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line.slice('ready '.length)));
      } catch (err) {
        reject(new Error(`unreadable ready line ${JSON.stringify(line)}: ${(err as Error).message}`));
      }
    });
    cp.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`the upstream control plane exited (${sig ?? code}) before it was ready`));
    });
  });
}

async function nodeReady(admin: NodeHttp, name: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const node = await admin.request('GET', `/api/v1/nodes/${name}`);
      const ready = (node.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
      // Ready, and the node lifecycle controller has lifted its not-ready taint (pods schedule then).
      if (ready?.status === 'True' && !(node.spec?.taints ?? []).some((t: any) => t.key === 'node.kubernetes.io/not-ready')) return;
    } catch {
      /* not registered yet */
    }
    if (Date.now() > end) throw new Error(`node ${name} was not Ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function stopProcess(cp: ChildProcess, graceMs = 20_000): Promise<void> {
  if (cp.exitCode !== null || cp.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => cp.kill('SIGKILL'), graceMs);
    cp.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    cp.kill('SIGTERM');
  });
}

/** Starts the control plane, attaches our node with its node.kubeconfig, waits until the Node is Ready. */
export async function startUpstreamCluster(o: UpstreamClusterOptions): Promise<UpstreamCluster> {
  const log = o.log ?? (() => {});
  const timeoutMs = o.timeoutMs ?? 180_000;
  const nodeName = o.nodeName ?? 'sandbox';
  const nodeIP = o.nodeIP ?? '127.0.0.1';
  if (o.build !== false) buildUpstream(log);
  const ownDir = o.dataDir === undefined;
  const dataDir = o.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'bodywork-upstream-'));
  const cpDir = path.join(dataDir, 'control-plane');
  fs.mkdirSync(cpDir, { recursive: true });
  const cp = spawn(UPSTREAM_BINARY, ['--data-dir', cpDir, '--kubeconfig', o.kubeconfigPath, '--node-name', nodeName, '--node-ip', nodeIP], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderrTail: string[] = [];
  readline.createInterface({ input: cp.stderr! }).on('line', (l) => {
    stderrTail.push(l);
    if (stderrTail.length > 40) stderrTail.shift();
  });
  // Never leave the control plane behind if this process exits without stop().
  const onExit = (): void => {
    cp.kill('SIGKILL');
  };
  process.on('exit', onExit);
  let node: SandboxNode | undefined;
  const cleanup = async (): Promise<void> => {
    await node?.stop();
    await stopProcess(cp);
    process.off('exit', onExit);
    if (ownDir) fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const ready = await waitReady(cp, timeoutMs, log).catch((err) => {
      throw new Error(`${(err as Error).message}\n${stderrTail.join('\n')}`);
    });
    const read = (f: string) => fs.readFileSync(path.join(ready.dataDir || cpDir, f), 'utf8');
    node = await attachNode({
      ...o.node,
      kubeconfig: read('node.kubeconfig'),
      nodeName,
      hostIP: nodeIP,
      dataDir: path.join(dataDir, 'node'),
      serving: { cert: read('kubelet-serving.crt'), key: read('kubelet-serving.key'), clientCA: read('ca.crt') },
      log: o.node?.log ?? log,
    });
    const kubeconfig = fs.readFileSync(o.kubeconfigPath, 'utf8');
    await nodeReady(new NodeHttp(kubeconfig), nodeName, timeoutMs);
    let stopped: Promise<void> | undefined;
    return { kubeconfigPath: o.kubeconfigPath, kubeconfig, server: ready.server, version: ready.version, dataDir, node, stop: () => (stopped ??= cleanup()) };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
