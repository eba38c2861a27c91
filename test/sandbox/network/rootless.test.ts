/**
 * The sandbox started by a user who is not root (uid 65534 when the tests run as root): rootless namespaces
 * (network/linux.ts) give every pod its own IP in a user namespace of that user, with no link or route on the host;
 * the host side (Service URLs, probes, the API server's proxy subresource) reaches pods through the node
 * namespace's helper. With BODYWORK_SANDBOX_USERNS=0, or where the kernel refuses a user namespace, the same user
 * gets the host-network fallback.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployment, sandboxFetch } from '../apiserver/helpers.js';
import { alive, nodeServer, until } from './helpers.js';

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
const user = asRoot ? { uid: NOBODY, gid: NOBODY } : { uid: process.getuid!(), gid: process.getgid!() };
const repo = path.resolve(__dirname, '../../..');
const usernsWorks = process.platform === 'linux' && spawnSync('unshare', ['--user', '--map-root-user', '--net', 'true'], user).status === 0;

interface Child {
  proc: ChildProcessWithoutNullStreams;
  info: { url: string; caCert: string; token: string; kubeconfig: string; dataDir: string; network: { mode: string; rootless?: boolean; podCIDR?: string; reason?: string } };
  serviceUrl(name: string): Promise<string | null>;
}

/**
 * Runs argv where the kernel refuses the next user namespace: inside a user namespace of ours whose limit
 * (user.max_user_namespaces, per user namespace) allows one more, spent on mapping back to our own uid.
 */
function refusingUserns(argv: string[]): string[] {
  const script = `echo 1 > /proc/sys/user/max_user_namespaces && exec unshare --user --map-user=${user.uid} --map-group=${user.gid} -- "$@"`;
  return ['unshare', '--user', '--map-root-user', '--', 'sh', '-c', script, 'sh', ...argv];
}

const homes: string[] = [];
afterAll(() => {
  for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
});

/** Starts test/sandbox/network/support/sandbox-child.ts as `user` (`wrap`: a command prefix). */
async function startChild(env: Record<string, string> = {}, wrap: (argv: string[]) => string[] = (a) => a): Promise<Child> {
  const home = fs.mkdtempSync('/tmp/bodywork-rootless-home-');
  homes.push(home);
  fs.chownSync(home, user.uid, user.gid);
  const [file, ...args] = wrap([process.execPath, '--import', 'tsx', path.join(repo, 'test/sandbox/network/support/sandbox-child.ts')]);
  const proc = spawn(file, args, {
    cwd: repo,
    ...user,
    env: { PATH: process.env.PATH ?? '', HOME: home, TMPDIR: '/tmp', ...env },
  });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = readline.createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<any> => {
    const r = await lines.next();
    if (r.done) throw new Error(`the sandbox process ended: ${stderr}`);
    return JSON.parse(r.value);
  };
  const info = await next();
  return { proc, info, serviceUrl: async (name) => (proc.stdin.write(`${name}\n`), (await next()).url) };
}

/** A GET on a connection of its own (fetch would keep one connection, to one backend). */
function getOnce(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

/** The processes below `pid` (from /proc). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      /* gone */
    }
  }
  const out: number[] = [];
  for (const todo = [pid]; todo.length; ) {
    for (const c of children.get(todo.pop()!) ?? []) {
      out.push(c);
      todo.push(c);
    }
  }
  return out;
}

describe.skipIf(!usernsWorks)('rootless namespaces (not root, user namespaces allowed)', () => {
  let child: Child;
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;
  beforeAll(async () => {
    child = await startChild();
    const kc = new k8s.KubeConfig();
    kc.loadFromString(child.info.kubeconfig);
    core = kc.makeApiClient(k8s.CoreV1Api);
    apps = kc.makeApiClient(k8s.AppsV1Api);
  }, 60_000);
  afterAll(() => {
    if (child?.proc.exitCode === null) child.proc.kill('SIGKILL');
  });

  it('isolates pods without touching the host network', () => {
    expect(child.info.network).toMatchObject({ mode: 'isolated', rootless: true, podCIDR: expect.stringMatching(/^10\.244\.\d+\.0\/24$/) });
    // No host-side link: the host has no way into the namespace but the helper.
    expect(spawnSync('ip', ['-o', 'link', 'show']).stdout.toString()).not.toContain(`pid=${child.proc.pid}`);
  });

  it('runs two replicas on port 5000, each at its own IP, ready through HTTP, TCP and exec probes; the Service URL and the proxy subresource reach both', async () => {
    const probes = {
      readinessProbe: { httpGet: { port: 5000, path: '/ready' }, periodSeconds: 1 },
      livenessProbe: { tcpSocket: { port: 5000 }, periodSeconds: 1 },
      startupProbe: { exec: { command: ['sh', '-c', `test "$(id -u)" = ${user.uid} && test -d /bodywork/data`] }, periodSeconds: 1 },
    };
    const web = deployment('web', 'x');
    const spec = {
      volumes: [{ name: 'data', emptyDir: {} }],
      containers: [{ name: 'web', image: 'x', command: nodeServer(5000), ports: [{ containerPort: 5000 }], volumeMounts: [{ name: 'data', mountPath: '/bodywork/data' }], ...probes }],
    };
    await apps.createNamespacedDeployment({ namespace: 'default', body: { ...web, spec: { ...web.spec, replicas: 2, template: { ...web.spec.template, spec } } } });
    await core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 5000 }] } } });
    const pods = await until(async () => {
      const items = (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' })).items;
      const ready = items.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return ready.length === 2 && ready;
    }, 'both replicas Ready');
    const ips = pods.map((p) => p.status!.podIP!);
    expect(new Set(ips).size).toBe(2);
    const prefix = child.info.network.podCIDR!.replace(/0\/24$/, '');
    for (const ip of ips) expect(ip.startsWith(prefix)).toBe(true);

    const names = new Set(pods.map((p) => p.metadata!.name!));
    const url = await child.serviceUrl('web');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const seen = new Set<string>();
    await until(async () => {
      seen.add((await getOnce(`${url}/x`)).split(' ')[0]);
      return [...names].every((n) => seen.has(n));
    }, 'both replicas answering the Service URL');

    const f = sandboxFetch(child.info);
    const p = pods[0].metadata!.name!;
    const r = await f(`${child.info.url}/api/v1/namespaces/default/pods/${p}:5000/proxy/hello`);
    expect(await r.text()).toBe(`${p} /hello`);
  });

  it('gives pods Service names (the API server\u2019s `kubernetes` too), their hostname and the sandbox user, seen as itself', async () => {
    // The API server listens on the host's loopback, which the pod network reaches only through the node's proxy.
    const api = `${process.execPath} --no-warnings -e "fetch('https://kubernetes.default.svc/version').then(r=>console.log(r.status))"`;
    const cmd = `id -u; hostname; ${process.execPath} -e "fetch('http://web/in-pod').then(r=>r.text()).then(console.log)"; NODE_TLS_REJECT_UNAUTHORIZED=0 ${api}`;
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'client' }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x', command: ['sh', '-c', cmd] }] } } });
    await until(async () => (await core.readNamespacedPod({ name: 'client', namespace: 'default' })).status?.phase === 'Succeeded', 'client pod Succeeded');
    const log = String(await core.readNamespacedPodLog({ name: 'client', namespace: 'default' }));
    expect(log).toMatch(new RegExp(`^${user.uid}\nclient\nweb-[a-z0-9]+-[a-z0-9]+ /in-pod\n401\n$`));
  });

  it('runs a hostNetwork pod on the host network, with its volume at its mountPath', async () => {
    const cmd = 'id -u; cat /bodywork/cfg/k';
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cfg' }, data: { k: 'v1\n' } } });
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'hostnet' },
        spec: {
          hostNetwork: true,
          restartPolicy: 'Never',
          volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }],
          containers: [{ name: 'c', image: 'x', command: ['sh', '-c', cmd], volumeMounts: [{ name: 'cfg', mountPath: '/bodywork/cfg' }] }],
        },
      },
    });
    const p = await until(async () => {
      const x = await core.readNamespacedPod({ name: 'hostnet', namespace: 'default' });
      return x.status?.phase === 'Succeeded' && x;
    }, 'hostNetwork pod Succeeded');
    expect(p.status?.podIP).toBe('127.0.0.1');
    expect(String(await core.readNamespacedPodLog({ name: 'hostnet', namespace: 'default' }))).toBe(`${user.uid}\nv1\n`);
  });

  it('leaves no process behind when the sandbox process is killed', async () => {
    const below = descendants(child.proc.pid!);
    expect(below.length).toBeGreaterThan(2);
    child.proc.kill('SIGKILL');
    await until(() => below.every((pid) => !alive(pid)), 'every process of the sandbox gone');
    fs.rmSync(child.info.dataDir, { recursive: true, force: true });
  });
});

describe('not root, without user namespaces: the host network with per-pod loopback addresses', () => {
  const stopped = async (child: Child): Promise<void> => {
    child.proc.stdin.end();
    expect(await new Promise((r) => child.proc.once('exit', r))).toBe(0);
  };

  it('when BODYWORK_SANDBOX_USERNS=0 turns them off', { timeout: 60_000 }, async () => {
    const child = await startChild({ BODYWORK_SANDBOX_USERNS: '0' });
    expect(child.info.network).toEqual({ mode: 'host', reason: 'not running as root, and BODYWORK_SANDBOX_USERNS=0 turned user namespaces off' });
    await stopped(child);
  });

  it.skipIf(!usernsWorks)('when the kernel refuses one', { timeout: 60_000 }, async () => {
    const child = await startChild({}, refusingUserns);
    expect(child.info.network.mode).toBe('host');
    expect(child.info.network.reason).toMatch(/^not running as root, and cannot create user and network namespaces: .*No space left on device/);
    await stopped(child);
  });
});
