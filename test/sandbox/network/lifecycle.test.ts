/**
 * Pod networks side by side and across crashes: two sandboxes on one machine with the same cluster IP each reach
 * their own Service; a sandbox process killed with SIGKILL leaves no link, route or namespace holder behind; links
 * left by a dead process are swept at start; /etc/hosts follows Services created after the pod started.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../src/sandbox/index.js';
import { alive, childProcesses, clients, isolationPossible, nodeServer, until } from './helpers.js';

const started: Sandbox[] = [];
afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
});

const links = (): string => execFileSync('ip', ['-o', 'link', 'show']).toString();

async function runToEnd(sb: Sandbox, name: string, command: string[], spec: Record<string, unknown> = {}): Promise<{ phase: string; log: string; pod: any }> {
  const c = clients(sb);
  await c.core.createNamespacedPod({ namespace: 'default', body: { metadata: { name }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x', command }], ...spec } } });
  const pod = await until(async () => {
    const p = await c.core.readNamespacedPod({ name, namespace: 'default' });
    return ['Succeeded', 'Failed'].includes(p.status?.phase ?? '') && p;
  }, `${name} to finish`);
  return { phase: pod.status!.phase!, log: String(await c.core.readNamespacedPodLog({ name, namespace: 'default' })), pod };
}

describe.skipIf(!isolationPossible)('pod network lifecycle', () => {
  it('two sandboxes with the same cluster IP each reach their own Service, on their own subnets', async () => {
    const [a, b] = await Promise.all([startSandbox({ python: false }), startSandbox({ python: false })]);
    started.push(a, b);
    expect(a.network.podCIDR).not.toBe(b.network.podCIDR);
    for (const [sb, tag] of [[a, 'first'], [b, 'second']] as const) {
      const c = clients(sb);
      await c.core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'echo' }, spec: { clusterIP: '10.96.200.200', selector: { app: 'echo' }, ports: [{ port: 80, targetPort: 8080 }] } } });
      await c.core.createNamespacedPod({
        namespace: 'default',
        body: { metadata: { name: tag, labels: { app: 'echo' } }, spec: { containers: [{ name: 'c', image: 'x', command: nodeServer(8080), readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }] } },
      });
    }
    for (const [sb, tag] of [[a, 'first'], [b, 'second']] as const) {
      const c = clients(sb);
      await until(async () => ((await c.core.readNamespacedEndpoints({ name: 'echo', namespace: 'default' })).subsets?.[0]?.addresses?.length ?? 0) === 1, `${tag} endpoints`);
      const fetchScript = "fetch('http://echo/x').then(r=>r.text()).then(t=>console.log(t),e=>{console.log(String(e.cause??e));process.exit(1)})";
      const { phase, log } = await runToEnd(sb, 'client', [process.execPath, '-e', fetchScript]);
      expect(log.trim()).toBe(`${tag} /x`);
      expect(phase).toBe('Succeeded');
    }
    // Deleting a pod removes its veth from the node namespace and ends its namespace holder.
    const gateway = a.network.podCIDR!.replace(/0\/24$/, '1/24');
    const helper = [...childProcesses()].find(
      ([pid, cmd]) => cmd.includes("process.on('disconnect'") && execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', '-o', 'addr']).toString().includes(gateway),
    )![0];
    const helperLinks = (): string => execFileSync('nsenter', [`--net=/proc/${helper}/ns/net`, 'ip', '-o', 'link']).toString();
    const firstIP = (await clients(a).core.readNamespacedPod({ name: 'first', namespace: 'default' })).status!.podIP!;
    const veth = `veth${firstIP.split('.')[3]}@`;
    expect(helperLinks()).toContain(veth);
    // The pod's namespace holder (its IP among its arguments, its hostname the last) and every process in its network namespace.
    const kids = childProcesses();
    const holderPid = [...kids].find(([, cmd]) => cmd.includes(` ${firstIP} `) && cmd.endsWith(' first'))![0];
    const netns = fs.readlinkSync(`/proc/${holderPid}/ns/net`);
    const inPod = [...kids.keys()].filter((pid) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/ns/net`) === netns;
      } catch {
        return false;
      }
    });
    expect(inPod.length).toBe(2);
    await clients(a).core.deleteNamespacedPod({ name: 'first', namespace: 'default', gracePeriodSeconds: 0 });
    await until(async () => !(await clients(a).core.listNamespacedPod({ namespace: 'default' })).items.some((p) => p.metadata?.name === 'first'), 'pod gone');
    await until(() => !helperLinks().includes(veth), `${veth} to go`, 5000);
    // Its container and its holder are gone.
    await until(() => inPod.every((pid) => !alive(pid)), 'the pod\'s processes to exit', 5000);
    // A hostNetwork pod shares the host's network: pod IP = host IP.
    const { pod } = await runToEnd(a, 'on-host', ['true'], { hostNetwork: true });
    expect(pod.status.podIP).toBe('127.0.0.1');
  });

  it('/etc/hosts follows Services created after the pod started', async () => {
    const sb = started[0];
    const c = clients(sb);
    const waiter = runToEnd(sb, 'waiter', ['sh', '-c', 'for i in $(seq 100); do grep -q "late-svc.default.svc.cluster.local" /etc/hosts && { grep late-svc /etc/hosts; exit 0; }; sleep 0.1; done; exit 1']);
    await until(async () => (await c.core.readNamespacedPod({ name: 'waiter', namespace: 'default' })).status?.phase === 'Running', 'waiter running');
    const svc = await c.core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'late-svc' }, spec: { ports: [{ port: 1 }] } } });
    const { phase, log } = await waiter;
    expect(log.trim()).toBe(`${svc.spec!.clusterIP}\tlate-svc late-svc.default late-svc.default.svc late-svc.default.svc.cluster.local`);
    expect(phase).toBe('Succeeded');
    // The mount setup does not depend on the container's PATH, which the command gets as set.
    const odd = await runToEnd(sb, 'odd-path', ['/bin/sh', '-c', 'echo "$PATH"; cat /etc/hostname'], {});
    expect(odd.log).toBe(`${process.env.PATH}\nodd-path\n`);
    const c2 = clients(sb);
    await c2.core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'own-path' }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x', command: ['/bin/sh', '-c', 'echo "$PATH"'], env: [{ name: 'PATH', value: '/opt/none' }] }] } },
    });
    await until(async () => (await c2.core.readNamespacedPod({ name: 'own-path', namespace: 'default' })).status?.phase === 'Succeeded', 'own-path');
    expect(String(await c2.core.readNamespacedPodLog({ name: 'own-path', namespace: 'default' }))).toBe('/opt/none\n');
    // Exec probes run in the container's own root (here a new one, for a new top-level directory).
    await c2.core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'probed' },
        spec: {
          volumes: [{ name: 'v', emptyDir: {} }],
          containers: [{ name: 'c', image: 'x', command: ['sleep', '60'], workingDir: '/sbx-probe-test/v', volumeMounts: [{ name: 'v', mountPath: '/sbx-probe-test/v' }], readinessProbe: { exec: { command: ['sh', '-c', 'test "$(pwd)" = /sbx-probe-test/v && touch ok && test -e /sbx-probe-test/v/ok'] }, periodSeconds: 1 } }],
        },
      },
    });
    await until(async () => (await c2.core.readNamespacedPod({ name: 'probed', namespace: 'default' })).status?.conditions?.some((k) => k.type === 'Ready' && k.status === 'True'), 'probed Ready', 15_000);
    expect(fs.existsSync('/sbx-probe-test')).toBe(false);
  });

  it('a SIGKILLed sandbox process leaves no link, route, namespace holder or container; a stale link is swept at start', async () => {
    const root = process.cwd();
    const code = `
      import { startSandbox } from './src/sandbox/index.ts';
      const sb = await startSandbox({ python: false });
      sb.store.create('pods', 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x', command: ['sleep', '300'] }] } });
      const t = setInterval(() => {
        const p = sb.store.find('pods', 'default', 'p');
        if (p?.status?.phase === 'Running') { clearInterval(t); console.log(JSON.stringify({ cidr: sb.network.podCIDR, pid: process.pid })); }
      }, 50);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const info = await new Promise<{ cidr: string; pid: number }>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve(JSON.parse(line));
      });
      child.once('exit', (c) => reject(new Error(`child exited ${c}: ${out}`)));
    });
    const link = `bwsbx${info.cidr.split('.')[2]}`;
    expect(links()).toContain(`${link}@`);
    // Its namespace holders: children of the child.
    const holders = execFileSync('ps', ['-o', 'pid=', '--ppid', String(info.pid)]).toString().trim().split(/\s+/).map(Number);
    child.kill('SIGKILL');
    await until(() => !links().includes(`${link}@`), `${link} to vanish`, 10_000);
    expect(execFileSync('ip', ['-o', '-4', 'route', 'show']).toString()).not.toContain(info.cidr);
    // The node namespace helper, the pod's holder and the container (`sleep 300`) all go.
    expect(holders.length).toBeGreaterThanOrEqual(3);
    await until(() => holders.every((p) => !alive(p)), `${holders.join(', ')} to exit`, 10_000);

    // A link named like ours, whose owner is dead, is removed by the next sandbox.
    const dead = spawn('true');
    await new Promise((r) => dead.once('exit', r));
    execFileSync('ip', ['link', 'add', 'bwsbx251', 'type', 'veth', 'peer', 'name', 'bwsbx251p']);
    execFileSync('ip', ['link', 'set', 'dev', 'bwsbx251', 'alias', `bodywork-sandbox pid=${dead.pid}`]);
    const sb = await startSandbox({ python: false });
    started.push(sb);
    expect(links()).not.toContain('bwsbx251');
  }, 60_000);
});
