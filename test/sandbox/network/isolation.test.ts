/**
 * Pod network isolation through startSandbox() and client-node: a network namespace and IP per pod, Services by
 * name and cluster IP from inside pods (ready endpoints only, round-robin), service variables, volumes at their
 * mountPath, the API server's proxy subresource on pod IPs, and nothing left behind by stop().
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../src/sandbox/index.js';
import { alive, childProcesses, clients, isolationPossible, nodeServer, until, type Clients } from './helpers.js';
import { sandboxFetch } from '../apiserver/helpers.js';

let sb: Sandbox;
let c: Clients;
const warnings: string[] = [];

beforeAll(async () => {
  sb = await startSandbox({ isolation: 'auto', warn: (m) => warnings.push(m), kubelet: { maxGracePeriodMs: 1000 } });
  c = clients(sb);
});
afterAll(async () => {
  await sb?.stop();
});

const ns = 'default';

async function podsOf(app: string): Promise<any[]> {
  return (await c.core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })).items;
}

/** Runs a one-off pod to completion and returns its log. */
async function runPod(name: string, command: string[], extra: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}): Promise<{ phase: string; log: string }> {
  const namespace = ns;
  await c.core.createNamespacedPod({
    namespace,
    body: { metadata: { name }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'python:3.11', command, ...extra }], ...podSpec } },
  });
  const phase = await until(async () => {
    const p = await c.core.readNamespacedPod({ name, namespace });
    return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p.status.phase : undefined;
  }, `pod ${name} to finish`);
  const log = await c.core.readNamespacedPodLog({ name, namespace, container: 'c' });
  return { phase, log: String(log) };
}

describe.skipIf(!isolationPossible)('isolated pod network', () => {
  it('is on, quietly, with a per-sandbox pod subnet', () => {
    expect(sb.network.mode).toBe('isolated');
    expect(sb.network.podCIDR).toMatch(/^10\.244\.\d+\.0\/24$/);
    expect(warnings).toEqual([]);
  });

  it('two replicas of one Deployment bind the same port, both get Ready with their own pod IPs', async () => {
    await c.core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 5000, targetPort: 5000 }] } },
    });
    await c.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: {
              terminationGracePeriodSeconds: 1,
              volumes: [{ name: 'state', emptyDir: {} }],
              containers: [
                {
                  name: 'web',
                  image: 'bodywork/scoring:latest',
                  command: nodeServer(5000),
                  ports: [{ containerPort: 5000 }],
                  volumeMounts: [{ name: 'state', mountPath: '/var/run/scoring-state' }],
                  // An exec probe runs inside the container: it sees the volume at its mountPath.
                  readinessProbe: { exec: { command: ['sh', '-c', 'test ! -e /var/run/scoring-state/unready'] }, periodSeconds: 1, failureThreshold: 1 },
                  // Started once it listens (so Ready means serving), from the host to podIP:5000.
                  startupProbe: { tcpSocket: { port: 5000 }, periodSeconds: 1, failureThreshold: 30 },
                  livenessProbe: { httpGet: { path: '/healthz', port: 5000 }, periodSeconds: 1 },
                },
              ],
            },
          },
        },
      },
    });
    const dep = await until(async () => {
      const d = await c.apps.readNamespacedDeployment({ name: 'web', namespace: ns });
      return d.status?.readyReplicas === 2 && d;
    }, 'two ready replicas');
    expect(dep.status?.availableReplicas).toBe(2);
    const pods = await podsOf('web');
    expect(pods).toHaveLength(2);
    const prefix = sb.network.podCIDR!.replace(/0\/24$/, '');
    const ips = pods.map((p) => p.status.podIP);
    for (const ip of ips) expect(ip.startsWith(prefix)).toBe(true);
    expect(new Set(ips).size).toBe(2);
    expect(pods.map((p) => p.status.podIPs)).toEqual(ips.map((ip) => [{ ip }]));
    for (const p of pods) expect(p.status.containerStatuses[0].restartCount).toBe(0);
    // The host reaches each pod at podIP:port.
    for (const p of pods) expect(await (await fetch(`http://${p.status.podIP}:5000/x`)).text()).toBe(`${p.metadata.name} /x`);
    const ep = await until(async () => {
      const e = await c.core.readNamespacedEndpoints({ name: 'web', namespace: ns });
      return (e.subsets?.[0]?.addresses?.length ?? 0) === 2 && e;
    }, 'two endpoint addresses');
    expect(ep.subsets![0].addresses!.map((a) => a.ip).sort()).toEqual([...ips].sort());
  });

  it('the proxy subresource reaches a pod on its pod IP, and the Service through its endpoints', async () => {
    const [p] = await podsOf('web');
    const r = await sandboxFetch(sb)(`${sb.url}/api/v1/namespaces/${ns}/pods/${p.metadata.name}:5000/proxy/hello`);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe(`${p.metadata.name} /hello`);
    const s = await sandboxFetch(sb)(`${sb.url}/api/v1/namespaces/${ns}/services/web:http/proxy/svc`);
    expect(await s.text()).toMatch(/^web-[a-z0-9]+-[a-z0-9]+ \/svc$/);
  });

  it('a pod reaches the Service by short name, FQDN and cluster IP, round-robin, and sees the service variables', async () => {
    const svc = await c.core.readNamespacedService({ name: 'web', namespace: ns });
    const script = [
      'import os, urllib.request',
      'get = lambda u: urllib.request.urlopen(u, timeout=5).read().decode()',
      "print('short', get('http://web:5000/a'))",
      "print('fqdn', get('http://web.default.svc.cluster.local:5000/b'))",
      "print('ns', get('http://web.default:5000/c'))",
      "print('env', get('http://%s:%s/d' % (os.environ['WEB_SERVICE_HOST'], os.environ['WEB_SERVICE_PORT'])))",
      "print('rr', sorted(set(get('http://web:5000/').split()[0] for _ in range(12))))",
      "print('vars', os.environ['WEB_SERVICE_PORT_HTTP'], os.environ['WEB_PORT'], os.environ['KUBERNETES_SERVICE_HOST'], os.environ['KUBERNETES_SERVICE_PORT'])",
      // HTTPS, verified against kube-root-ca.crt (the name included) at the path upstream's kube-api-access mounts it.
      'import ssl, urllib.error',
      "tls = ssl.create_default_context(cafile='/var/run/secrets/kubernetes.io/serviceaccount/ca.crt')",
      'try: code = urllib.request.urlopen("https://kubernetes.default.svc/version", timeout=5, context=tls).status',
      'except urllib.error.HTTPError as e: code = e.code',
      "print('kube', code)",
    ].join('\n');
    const { phase, log } = await runPod('client', ['python3', '-c', script], {
      volumeMounts: [{ name: 'kube-ca', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }],
    }, { volumes: [{ name: 'kube-ca', configMap: { name: 'kube-root-ca.crt' } }] });
    expect(phase, log).toBe('Succeeded');
    expect(log).toMatch(/^short web-\S+ \/a$/m);
    expect(log).toMatch(/^fqdn web-\S+ \/b$/m);
    expect(log).toMatch(/^ns web-\S+ \/c$/m);
    expect(log).toMatch(/^env web-\S+ \/d$/m);
    const names = (await podsOf('web')).map((p) => p.metadata.name).sort();
    expect(log).toContain(`rr ['${names[0]}', '${names[1]}']`);
    expect(log).toContain(`vars 5000 tcp://${svc.spec!.clusterIP}:5000 10.96.0.1 443`);
    // The `kubernetes` Service forwards to this sandbox's API server, whose certificate the pod's CA bundle verifies;
    // a pod without the token is not let in.
    expect(log).toContain('kube 401');
    expect(phase).toBe('Succeeded');
  });

  it('a batch Job (a Bodywork stage) calls the scoring Service by its FQDN and completes', async () => {
    await c.batch.createNamespacedJob({
      namespace: ns,
      body: {
        metadata: { name: 'stage-1' },
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [
                {
                  name: 'stage-1',
                  image: 'bodywork/python:3.11',
                  command: ['python3', '-c', "import urllib.request; print(urllib.request.urlopen('http://web.default.svc.cluster.local:5000/score', timeout=5).status)"],
                },
              ],
            },
          },
        },
      },
    });
    const job = await until(async () => {
      const j = await c.batch.readNamespacedJob({ name: 'stage-1', namespace: ns });
      return j.status?.succeeded || j.status?.failed ? j : undefined;
    }, 'the Job to finish');
    const [p] = (await c.core.listNamespacedPod({ namespace: ns, labelSelector: 'job-name=stage-1' })).items;
    const log = String(await c.core.readNamespacedPodLog({ name: p.metadata!.name!, namespace: ns }));
    expect(job.status?.succeeded, log).toBe(1);
    expect(log.trim().split('\n').at(-1)).toBe('200');
  });

  it('a Service never routes to an unready pod', async () => {
    const [a, b] = (await podsOf('web')).sort((x, y) => x.metadata.name.localeCompare(y.metadata.name));
    // The readiness probe checks a file in A's emptyDir, which lives under the sandbox's data dir on the host.
    fs.writeFileSync(path.join(sb.dataDir, 'pods', a.metadata.uid, 'volumes', 'state', 'unready'), '');
    await until(async () => {
      const e = await c.core.readNamespacedEndpoints({ name: 'web', namespace: ns });
      const ready = (e.subsets ?? []).flatMap((s) => s.addresses ?? []).map((x) => x.targetRef?.name);
      const unready = (e.subsets ?? []).flatMap((s) => s.notReadyAddresses ?? []).map((x) => x.targetRef?.name);
      return ready.length === 1 && ready[0] === b.metadata.name && unready[0] === a.metadata.name;
    }, 'A to leave the ready endpoints');
    const url = await sb.serviceUrl('web');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const seen: string[] = [];
    for (let i = 0; i < 16; i++) seen.push((await (await fetch(`${url}/`)).text()).split(' ')[0]);
    expect(new Set(seen)).toEqual(new Set([b.metadata.name]));
    // From inside a pod, through the cluster IP, the same.
    const { log } = await runPod('client-unready', ['python3', '-c', "import urllib.request\nfor _ in range(10): print(urllib.request.urlopen('http://web:5000/', timeout=5).read().decode().split()[0])"]);
    expect(new Set(log.trim().split('\n'))).toEqual(new Set([b.metadata.name]));
    fs.rmSync(path.join(sb.dataDir, 'pods', a.metadata.uid, 'volumes', 'state', 'unready'));
  });

  it('volumes appear at their mountPath; /etc/hosts, /etc/resolv.conf and the hostname are the pod\u2019s own', async () => {
    await c.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'app-config' }, data: { 'model.yaml': 'depth: 3\n' } } });
    const script = [
      'set -e',
      'cat /etc/bodywork-test-config/model.yaml',
      'echo "pwd=$(pwd)"',
      'echo written > /srv-bodywork-test/deep/data/out.txt',
      'echo "hostname=$(hostname) file=$(cat /etc/hostname)"',
      'grep -E "^[0-9.]+\\s+web web.default " /etc/hosts',
      'head -1 /etc/resolv.conf',
      'test -e /opt/bodywork-test-missing/mnt && echo nested-ok',
      // The rest of the host file system is there, read and written through (the data dir, under /tmp here).
      'cat "$SBX_CHECK"',
      'echo through > "$SBX_OUT"',
    ].join('\n');
    fs.writeFileSync(path.join(sb.dataDir, 'host-check.txt'), 'host-visible\n');
    // Pods run as a non-root user: a host directory they write into is the admin's to open, as for a hostPath on a node.
    const hostOut = path.join(sb.dataDir, 'host-rw');
    fs.mkdirSync(hostOut);
    fs.chmodSync(hostOut, 0o777);
    const { phase, log } = await runPod('volumes', ['sh', '-c', script], {
      env: [
        { name: 'SBX_CHECK', value: path.join(sb.dataDir, 'host-check.txt') },
        { name: 'SBX_OUT', value: path.join(hostOut, 'host-out.txt') },
      ],
      workingDir: '/srv-bodywork-test/deep/data',
      volumeMounts: [
        { name: 'cfg', mountPath: '/etc/bodywork-test-config', readOnly: true },
        { name: 'scratch', mountPath: '/srv-bodywork-test/deep/data' },
        { name: 'other', mountPath: '/opt/bodywork-test-missing/mnt' },
      ],
    }, { volumes: [{ name: 'cfg', configMap: { name: 'app-config' } }, { name: 'scratch', emptyDir: {} }, { name: 'other', emptyDir: {} }] });
    expect(phase, log).toBe('Succeeded');
    expect(log).toContain('depth: 3');
    expect(log).toContain('pwd=/srv-bodywork-test/deep/data');
    expect(log).toContain('hostname=volumes file=volumes');
    expect(log).toMatch(/^10\.\d+\.\d+\.\d+\s+web web\.default web\.default\.svc web\.default\.svc\.cluster\.local$/m);
    expect(log).toContain('search default.svc.cluster.local svc.cluster.local cluster.local');
    expect(log).toContain('nested-ok');
    expect(log).toContain('host-visible');
    expect(fs.readFileSync(path.join(hostOut, 'host-out.txt'), 'utf8')).toBe('through\n');
    expect(phase).toBe('Succeeded');
    const p = await c.core.readNamespacedPod({ name: 'volumes', namespace: ns });
    expect(fs.readFileSync(path.join(sb.dataDir, 'pods', p.metadata!.uid!, 'volumes', 'scratch', 'out.txt'), 'utf8')).toBe('written\n');
    // Nothing was created on the host below existing directories: /etc and /opt were overlaid in the container only.
    expect(fs.existsSync('/etc/bodywork-test-config')).toBe(false);
    expect(fs.existsSync('/opt/bodywork-test-missing')).toBe(false);
    // Nor on the host root: the new top-level directory exists only in the container's own root.
    expect(fs.existsSync('/srv-bodywork-test')).toBe(false);
  }, 60_000);

  it('each container writes into its own /tmp and /var/tmp (a writable layer), unless a volume is mounted there', async () => {
    // As on a cluster: what one pod leaves in /tmp, another never sees, and the host's /tmp is untouched.
    const marker = `/tmp/bodywork-private-tmp-${process.pid}`;
    const write = await runPod('tmp-writer', ['sh', '-c', `echo model > ${marker} && echo v > /var/tmp/bw-var && cat ${marker} && ls -ld /tmp | cut -c1-10`]);
    expect(write.phase, write.log).toBe('Succeeded');
    expect(write.log).toBe('model\ndrwxrwxrwt\n');
    expect(fs.existsSync(marker)).toBe(false);
    const read = await runPod('tmp-reader', ['sh', '-c', `test ! -e ${marker} && test ! -e /var/tmp/bw-var && echo private`]);
    expect(read.log, read.log).toBe('private\n');
    // What the host's /tmp held at the container's start is there at the same paths (dotfiles and odd names too), and
    // inside those host directories the container writes through to the host.
    const hostDir = fs.mkdtempSync(path.join('/tmp', '.bodywork host shared '));
    try {
      // The container's user is not root: a directory anyone may write.
      fs.chmodSync(hostDir, 0o777);
      fs.writeFileSync(path.join(hostDir, 'in.txt'), 'from host\n', { mode: 0o644 });
      const through = await runPod('tmp-through', ['sh', '-c', 'cat "$0/in.txt" && echo from pod > "$0/out.txt"', hostDir]);
      expect(through.log, through.log).toBe('from host\n');
      expect(fs.readFileSync(path.join(hostDir, 'out.txt'), 'utf8')).toBe('from pod\n');
    } finally {
      fs.rmSync(hostDir, { recursive: true, force: true });
    }
    // A volume at /tmp is what the container sees there (two containers of the pod share it).
    const shared = await runPod('tmp-volume', ['sh', '-c', 'echo kept > /tmp/v.txt'], { volumeMounts: [{ name: 't', mountPath: '/tmp' }] }, { volumes: [{ name: 't', emptyDir: {} }] });
    expect(shared.phase, shared.log).toBe('Succeeded');
    const pod = await c.core.readNamespacedPod({ name: 'tmp-volume', namespace: ns });
    expect(fs.readFileSync(path.join(sb.dataDir, 'pods', pod.metadata!.uid!, 'volumes', 't', 'v.txt'), 'utf8')).toBe('kept\n');
  }, 60_000);

  it('answers proxy ARP on the node bridge at once, not after a random part of 0.8 s', async () => {
    // Pods see the host's address inside their /24; the bridge answers for it (proxy_arp). The kernel's default
    // proxy_delay held up every pod's first packet back to the host: a probe's first SYN-ACK, a Service's first reply.
    const { execFileSync } = await import('node:child_process');
    const helper = [...childProcesses().entries()].find(([, cmd]) => cmd.includes("process.on('disconnect'"));
    expect(helper).toBeDefined();
    const sysctl = (name: string) => execFileSync('nsenter', [`--net=/proc/${helper![0]}/ns/net`, 'cat', `/proc/sys/net/ipv4/${name}`]).toString().trim();
    expect(sysctl('conf/br0/proxy_arp')).toBe('1');
    expect(sysctl('neigh/br0/proxy_delay')).toBe('0');
  });

  it('stop() leaves no namespaces, links or processes behind', async () => {
    const index = sb.network.podCIDR!.split('.')[2];
    const link = `bwsbx${index}`;
    const { execFileSync } = await import('node:child_process');
    expect(execFileSync('ip', ['-o', 'link', 'show']).toString()).toContain(`${link}@`);
    const kids = childProcesses();
    // The node namespace helper, one namespace holder per running pod, and the containers.
    expect([...kids.values()].some((cmd) => cmd.includes("process.on('disconnect'"))).toBe(true);
    const netnsOf = (pid: number): string | undefined => {
      try {
        return fs.readlinkSync(`/proc/${pid}/ns/net`);
      } catch {
        return undefined;
      }
    };
    const own = fs.readlinkSync('/proc/self/ns/net');
    const foreign = [...kids.keys()].filter((pid) => netnsOf(pid) && netnsOf(pid) !== own);
    expect(foreign.length).toBeGreaterThanOrEqual(3);
    await sb.stop();
    for (const pid of kids.keys()) expect(alive(pid), `pid ${pid} ${kids.get(pid)}`).toBe(false);
    expect(execFileSync('ip', ['-o', 'link', 'show']).toString()).not.toContain(`${link}@`);
    expect(execFileSync('ip', ['-o', '-4', 'route', 'show']).toString()).not.toContain(sb.network.podCIDR!);
  });
});
