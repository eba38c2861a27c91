/**
 * The host-network fallback (`isolation: 'none'`, or a host that allows no namespaces): pods still run, on the host
 * network as in part 1, the sandbox says so once, and Services still get host URLs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../src/sandbox/index.js';
import { childProcesses, clients, nodeServer, until, type Clients } from './helpers.js';

let sb: Sandbox;
let c: Clients;
const warnings: string[] = [];

beforeAll(async () => {
  sb = await startSandbox({ isolation: 'none', warn: (m) => warnings.push(m), kubelet: { maxGracePeriodMs: 1000 } });
  c = clients(sb);
});
afterAll(async () => {
  await sb?.stop();
});

describe('host-network fallback', () => {
  it('says so once, plainly, with what it breaks', () => {
    expect(sb.network).toEqual({ mode: 'host', reason: "isolation: 'none' was requested" });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('pod network isolation is OFF');
    expect(warnings[0]).toContain('each pod gets its own loopback address');
    expect(warnings[0]).toContain('Service names');
  });

  it('runs pods on the host network, mount paths rewritten, and serves Services on host URLs', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    await c.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cfg' }, data: { k: 'v1\n' } } });
    await c.core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'solo' }, spec: { selector: { app: 'solo' }, ports: [{ port: 80, targetPort: port }] } } });
    await c.core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'solo', labels: { app: 'solo' } },
        spec: {
          volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }],
          containers: [
            { name: 'web', image: 'x', command: nodeServer(port), ports: [{ containerPort: port }], readinessProbe: { tcpSocket: { port }, periodSeconds: 1 } },
            { name: 'reader', image: 'x', command: ['sh', '-c', 'cat /etc/fallback-cfg/k; echo "$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"; env | grep -c _SERVICE_HOST || true; sleep 30'], volumeMounts: [{ name: 'cfg', mountPath: '/etc/fallback-cfg' }] },
          ],
        },
      },
    });
    const p = await until(async () => {
      const x = await c.core.readNamespacedPod({ name: 'solo', namespace: 'default' });
      return x.status?.conditions?.find((k) => k.type === 'Ready')?.status === 'True' && x;
    }, 'pod Ready');
    expect(p.status?.podIP).toMatch(/^127\.1\.\d+\.\d+$/);
    const log = await until(async () => {
      const l = String(await c.core.readNamespacedPodLog({ name: 'solo', namespace: 'default', container: 'reader' }));
      return /\n\d+\n$/.test(l) ? l : undefined;
    }, 'reader output');
    // Part-1 rewriting finds the volume; on the host network, where cluster IPs do not route, the only service
    // variables are the `kubernetes` Service's, naming the API server's own address.
    const api = new URL(sb.url);
    expect(log).toBe(`v1\n${api.hostname}:${api.port}\n1\n`);
    await until(async () => ((await c.core.readNamespacedEndpoints({ name: 'solo', namespace: 'default' })).subsets?.[0]?.addresses?.length ?? 0) === 1, 'endpoints');
    const url = await sb.serviceUrl('solo');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${url}/z`)).text()).toBe('solo /z');
    const all = await sb.serviceUrls();
    expect(all.map((u) => `${u.namespace}/${u.name}:${u.port}`)).toEqual(['default/kubernetes:443', 'default/solo:80']);
  });

  it('lets two replicas of a Python server listen on the same port, each on its own loopback address, whatever their PYTHONPATH', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    // Binds the wildcard address, as Flask's host="0.0.0.0" and http.server's default do (or a dual-stack "::");
    // answers with its pod IP.
    const server = (host: string): string =>
      [
        'import http.server, os, socket',
        'class H(http.server.BaseHTTPRequestHandler):',
        '    def do_GET(self):',
        '        data = os.environ["MY_POD_IP"].encode()',
        '        self.send_response(200)',
        '        self.send_header("Content-Length", str(len(data)))',
        '        self.end_headers()',
        '        self.wfile.write(data)',
        'class S(http.server.HTTPServer):',
        `    address_family = socket.AF_INET6 if ${JSON.stringify(host)} == "::" else socket.AF_INET`,
        `S((${JSON.stringify(host)}, ${port}), H).serve_forever()`,
      ].join('\n');
    // Their own PYTHONPATH, as every Bodywork stage has, holding a sitecustomize of their own: the shim is kept
    // ahead of it, and runs it.
    await c.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'site' }, data: { 'sitecustomize.py': 'print("own sitecustomize ran", flush=True)\n' } } });
    await c.core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'twins' }, spec: { selector: { app: 'twins' }, ports: [{ port: 80, targetPort: port }] } } });
    const twins = { 'twin-a': '0.0.0.0', 'twin-b': '::' };
    for (const [name, host] of Object.entries(twins)) {
      await c.core.createNamespacedPod({
        namespace: 'default',
        body: {
          metadata: { name, labels: { app: 'twins' } },
          spec: {
            volumes: [{ name: 'site', configMap: { name: 'site' } }],
            containers: [
              {
                name: 'web',
                image: 'python:3.12',
                command: ['python3', '-c', server(host)],
                env: [
                  { name: 'MY_POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                  { name: 'PYTHONPATH', value: '/opt/site' },
                ],
                volumeMounts: [{ name: 'site', mountPath: '/opt/site' }],
                readinessProbe: { tcpSocket: { port }, periodSeconds: 1 },
              },
            ],
          },
        },
      });
    }
    const names = Object.keys(twins);
    const ips = await until(async () => {
      const pods = await Promise.all(names.map((name) => c.core.readNamespacedPod({ name, namespace: 'default' })));
      const ready = pods.every((x) => x.status?.conditions?.find((k) => k.type === 'Ready')?.status === 'True');
      return ready && pods.map((x) => x.status?.podIP ?? '');
    }, 'both replicas Ready');
    expect(new Set(ips).size).toBe(2);
    await until(async () => ((await c.core.readNamespacedEndpoints({ name: 'twins', namespace: 'default' })).subsets?.[0]?.addresses?.length ?? 0) === 2, 'two endpoints');
    // Each replica answers on its own address; nothing else listens there.
    for (const ip of ips) expect(await (await fetch(`http://${ip}:${port}/`)).text()).toBe(ip);
    const url = await sb.serviceUrl('twins');
    const answers = new Set<string>();
    for (let i = 0; i < 4; i++) answers.add(await (await fetch(url!, { headers: { connection: 'close' } })).text());
    expect([...answers].sort()).toEqual([...ips].sort());
    // Neither bind failed: a replica whose server could not listen would have exited and been restarted.
    for (const name of names) {
      const pod = await c.core.readNamespacedPod({ name, namespace: 'default' });
      expect(pod.status?.containerStatuses?.[0]?.restartCount, name).toBe(0);
      expect(String(await c.core.readNamespacedPodLog({ name, namespace: 'default', container: 'web' }))).toContain('own sitecustomize ran\n');
    }
  });

  it('gives each container a private TMPDIR (no mount namespace to put it at /tmp)', async () => {
    const run = async (name: string, script: string): Promise<string> => {
      await c.core.createNamespacedPod({ namespace: 'default', body: { metadata: { name }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x', command: ['sh', '-c', script] }] } } });
      await until(async () => ['Succeeded', 'Failed'].includes((await c.core.readNamespacedPod({ name, namespace: 'default' })).status?.phase ?? ''), `${name} to finish`);
      return String(await c.core.readNamespacedPodLog({ name, namespace: 'default', container: 'c' }));
    };
    const first = await run('tmpdir-a', 'echo model > "$TMPDIR/m" && echo "$TMPDIR"');
    const second = await run('tmpdir-b', 'test ! -e "$TMPDIR/m" && echo "$TMPDIR"');
    expect(first.trim()).toMatch(/\/pods\/[0-9a-f-]+\/containers\/c\/0\/tmp$/);
    expect(second.trim()).toMatch(/\/containers\/c\/0\/tmp$/);
    expect(second.trim()).not.toBe(first.trim());
  });
});

describe('a failed start', () => {
  it('stops the pod network again (no link, no helper) and rethrows', async () => {
    const { execFileSync } = await import('node:child_process');
    // The API server cannot listen on a port this sandbox already uses.
    const port = Number(new URL(sb.url).port);
    await expect(startSandbox({ port, warn: () => {} })).rejects.toThrow(/EADDRINUSE/);
    // This process owns no pod network link any more (the host-network sandbox above never had one) and no helper.
    expect(execFileSync('ip', ['-o', 'link', 'show']).toString()).not.toContain(`bodywork-sandbox pid=${process.pid}`);
    expect([...childProcesses().values()].filter((cmd) => cmd.includes("process.on('disconnect'"))).toEqual([]);
  });
});
