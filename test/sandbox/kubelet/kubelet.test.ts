import { eventually } from '../../support/eventually.js';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/sandbox/types.js';
import { eventsFor, pidAlive, startHarness, waitFor, type Harness } from '../controllers/helpers.js';
import { text } from 'node:stream/consumers';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  if (h.logs.length) console.log(h.logs.join('\n'));
  await h.stop();
});

function pod(name: string, containers: any[], spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { terminationGracePeriodSeconds: 2, containers: containers.map((c) => ({ image: 'busybox', ...c })), ...spec },
  };
}

const getPod = (name: string) => h.store.get('pods', 'default', name);
const status = (name: string, c = 0) => getPod(name).status?.containerStatuses?.[c];
const cond = (p: KubeObject, type: string) => (p.status?.conditions ?? []).find((c: any) => c.type === type);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function logError(name: string, opts: any): string {
  try {
    h.kubelet.logs.open('default', name, opts);
  } catch (err: any) {
    return `${err.code} ${err.message}`;
  }
  return 'no error';
}

describe('kubelet', () => {
  it('keeps the stdout and stderr lines of a container in the order it wrote them', async () => {
    // Alternating streams, written back to back: read from two pipes, they would reach the log in chunks out of order.
    const script = 'i=1; while [ $i -le 300 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done';
    h.store.create('pods', 'default', pod('ordered', [{ name: 'c', command: ['sh', '-c', script] }], { restartPolicy: 'Never' }));
    await waitFor(h.store, () => getPod('ordered').status?.phase === 'Succeeded', 'Succeeded');
    const expected = Array.from({ length: 300 }, (_, k) => `out ${k + 1}\nerr ${k + 1}\n`).join('');
    expect(await text(h.kubelet.logs.open('default', 'ordered', {}))).toBe(expected);
  });

  it('runs a pod to Succeeded with kubelet-shaped status and events', async () => {
    h.store.create('pods', 'default', pod('once', [{ name: 'c', command: ['sh', '-c', 'echo "hello $MY_NAME from $POD_NS"'], env: [
      { name: 'MY_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    ] }], { restartPolicy: 'Never' }));
    const p = await waitFor(h.store, () => getPod('once').status?.phase === 'Succeeded' && getPod('once'), 'Succeeded');
    expect(p.spec.nodeName).toBe('sandbox');
    expect(p.status.conditions.map((c: any) => [c.type, c.status, c.reason ?? ''])).toEqual([
      ['PodReadyToStartContainers', 'False', ''],
      ['Initialized', 'True', 'PodCompleted'],
      ['Ready', 'False', 'PodCompleted'],
      ['ContainersReady', 'False', 'PodCompleted'],
      ['PodScheduled', 'True', ''],
    ]);
    // On the host network each pod still gets an address of its own (network/loopback.ts).
    expect(p.status).toMatchObject({ hostIP: '127.0.0.1', podIP: expect.stringMatching(/^127\.1\.\d+\.\d+$/), qosClass: 'BestEffort' });
    expect(p.status.startTime).toMatch(/Z$/);
    const cs = p.status.containerStatuses[0];
    expect(cs).toMatchObject({ name: 'c', ready: false, started: false, restartCount: 0, image: 'docker.io/library/busybox:latest', lastState: {} });
    expect(cs.state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(cs.containerID).toMatch(/^sandbox:\/\/[0-9a-f]{64}$/);
    expect(await text(h.kubelet.logs.open('default', 'once', {}))).toBe('hello once from default\n');
    const reasons = eventsFor(h.store, 'default', 'once').map((e) => `${e.reason}:${e.message}`);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'Scheduled:Successfully assigned default/once to sandbox',
        'Pulled:Container image "busybox" already present on machine',
        'Created:Created container: c',
        'Started:Started container c',
      ]),
    );
    const started = eventsFor(h.store, 'default', 'once').find((e) => e.reason === 'Started')!;
    expect(started.involvedObject).toMatchObject({ kind: 'Pod', name: 'once', namespace: 'default', fieldPath: 'spec.containers{c}' });
    expect(started.source).toMatchObject({ component: 'kubelet' });
    expect(started).toMatchObject({ type: 'Normal', count: 1, reportingComponent: 'kubelet' });
  });

  it('CrashLoopBackOff: restartCount, back-off message, lastState and previous logs', async () => {
    h.store.create('pods', 'default', pod('crash', [{ name: 'c', command: ['sh', '-c', 'echo "run at $(date +%s%N)"; exit 3'] }]));
    const p = await waitFor(h.store, () => {
      const x = getPod('crash');
      const cs = x.status?.containerStatuses?.[0];
      return cs?.state?.waiting?.reason === 'CrashLoopBackOff' && cs.restartCount >= 1 && x;
    }, 'CrashLoopBackOff');
    const cs = p.status.containerStatuses[0];
    expect(cs.state.waiting.message).toMatch(new RegExp(`^back-off \\d+ms restarting failed container=c pod=crash_default\\(${p.metadata.uid}\\)$`));
    expect(cs.lastState.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(p.status.phase).toBe('Running');
    expect(cond(p, 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [c]' });
    // The current (waiting) container shows the last run; --previous shows the one before it. The back-off here is
    // short (300 ms, doubling): on a slow machine the next run may start between the status read and the log reads
    // (its log still empty), so the two logs are read again until they are read within one back-off.
    const [current, previous] = await eventually(async () => {
      const logs = [await text(h.kubelet.logs.open('default', 'crash', {})), await text(h.kubelet.logs.open('default', 'crash', { previous: true }))];
      return logs.every((l) => /^run at \d+\n$/.test(l)) && logs;
    }, 'the current and previous logs of the crash-looping container');
    expect(current).toMatch(/^run at \d+\n$/);
    expect(previous).toMatch(/^run at \d+\n$/);
    expect(eventsFor(h.store, 'default', 'crash').some((e) => e.reason === 'BackOff' && e.message === `Back-off restarting failed container c in pod crash_default(${p.metadata.uid})`)).toBe(true);
    // It keeps restarting with a growing back-off.
    await waitFor(h.store, () => (status('crash')?.restartCount ?? 0) >= 3, 'restartCount 3');
  });

  it('logs: tail, timestamps, limitBytes, follow, and the API server error wording', async () => {
    const goDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-logs-'));
    fs.chmodSync(goDir, 0o755); // pods run as a non-root user when the tests run as root
    const go = path.join(goDir, 'go');
    h.store.create(
      'pods',
      'default',
      pod('talk', [
        // "late" waits for the test's go (a file), not for a time: the tail must be read before it on any machine.
        { name: 'a', command: ['sh', '-c', 'for i in 1 2 3 4 5; do echo line$i; done; echo err >&2; while [ ! -e "$GO" ]; do sleep 0.05; done; echo late; sleep 300'], env: [{ name: 'GO', value: go }] },
        { name: 'b', command: ['sleep', '300'] },
      ]),
    );
    expect(logError('nope', {})).toBe('404 pods "nope" not found');
    await waitFor(h.store, () => getPod('talk').status?.phase === 'Running', 'Running');
    expect(logError('talk', {})).toBe('400 a container name must be specified for pod talk, choose one of: [a b]');
    expect(logError('talk', { container: 'zz' })).toBe('400 container zz is not valid for pod talk');
    expect(logError('talk', { container: 'a', previous: true })).toBe('400 previous terminated container "a" in pod "talk" not found');
    await eventually(async () => (await readAll('talk', 'a')).includes('err'), 'output');
    expect(await text(h.kubelet.logs.open('default', 'talk', { container: 'a', tailLines: 2 }))).toBe('line5\nerr\n');
    const ts = await text(h.kubelet.logs.open('default', 'talk', { container: 'a', timestamps: true, tailLines: 1 }));
    expect(ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z err\n$/);
    expect(await text(h.kubelet.logs.open('default', 'talk', { container: 'a', limitBytes: 8 }))).toBe('line1\nli');
    // follow: the stream delivers what is written later.
    const follow = h.kubelet.logs.open('default', 'talk', { container: 'a', follow: true, tailLines: 1 });
    fs.writeFileSync(go, '');
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`follow saw only ${JSON.stringify(seen)}`)), 5000);
      follow.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.includes('late\n')) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    follow.destroy();
    expect(seen.startsWith('err\n') || seen.startsWith('late\n')).toBe(true);

    h.store.create('pods', 'default', pod('nocmd', [{ name: 'x' }]));
    await waitFor(h.store, () => status('nocmd')?.state?.waiting?.reason === 'CreateContainerError', 'CreateContainerError');
    expect(logError('nocmd', {})).toBe('400 container "x" in pod "nocmd" is waiting to start: CreateContainerError');
  });

  it('deleting a pod stops its process group (SIGTERM, then gone) and removes the pod', async () => {
    // `$$` is Kubernetes' escape for `$` in command/args: the shell gets `$$` only when written `$$$$`.
    h.store.create('pods', 'default', pod('victim', [{ name: 'c', command: ['sh', '-c', 'sleep 300 & echo "pids $$$$ $!"; wait'] }]));
    const printed = await eventually(async () => {
      const out = await readAll('victim', 'c');
      return out.startsWith('pids') && out;
    }, 'pid printed');
    const [, shPid, sleepPid] = printed.trim().split(' ').map(Number);
    expect(pidAlive(shPid)).toBe(true);
    expect(pidAlive(sleepPid)).toBe(true);
    const deleting = h.store.delete('pods', 'default', 'victim');
    expect(deleting?.metadata.deletionTimestamp).toBeTruthy();
    await waitFor(h.store, () => !h.store.find('pods', 'default', 'victim'), 'pod removed');
    expect(pidAlive(shPid)).toBe(false);
    // The backgrounded child is in the same process group: killed too (allow its exit to be reaped).
    await waitFor(h.store, () => !pidAlive(sleepPid), 'grandchild gone', 2000, 20);
    expect(eventsFor(h.store, 'default', 'victim').some((e) => e.reason === 'Killing' && e.message === 'Stopping container c')).toBe(true);
  });

  it('probes: readiness over HTTP and TCP, liveness restarts, startup gates readiness', async () => {
    const port = await freePort();
    const closed = await freePort();
    const server = `require('http').createServer((q,s)=>{s.writeHead(q.url==='/healthz'?200:500);s.end('ok')}).listen(+process.env.PORT)`;
    h.store.create(
      'pods',
      'default',
      pod('probed', [
        {
          name: 'web',
          command: ['node', '-e', server],
          env: [{ name: 'PORT', value: String(port) }],
          ports: [{ name: 'http', containerPort: port }],
          startupProbe: { tcpSocket: { port: 'http' }, periodSeconds: 1, failureThreshold: 30 },
          readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1 },
        },
      ]),
    );
    const ready = await waitFor(h.store, () => cond(getPod('probed'), 'Ready')?.status === 'True' && getPod('probed'), 'Ready');
    expect(ready.status.containerStatuses[0]).toMatchObject({ ready: true, started: true });
    expect(cond(ready, 'ContainersReady')?.status).toBe('True');

    h.store.create('pods', 'default', pod('tcpfail', [{ name: 'c', command: ['sleep', '300'], readinessProbe: { tcpSocket: { port: closed }, periodSeconds: 1 } }]));
    await waitFor(h.store, () => eventsFor(h.store, 'default', 'tcpfail').some((e) => e.reason === 'Unhealthy'), 'Unhealthy');
    const ev = eventsFor(h.store, 'default', 'tcpfail').find((e) => e.reason === 'Unhealthy')!;
    expect(ev.message).toBe(`Readiness probe failed: dial tcp ${getPod('tcpfail').status.podIP}:${closed}: connect: connection refused`);
    expect(ev.type).toBe('Warning');
    expect(status('tcpfail').ready).toBe(false);
    expect(getPod('tcpfail').status.phase).toBe('Running');

    h.store.create('pods', 'default', pod('live', [{ name: 'c', command: ['sleep', '300'], livenessProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 1 } }]));
    await waitFor(h.store, () => (status('live')?.restartCount ?? 0) >= 1, 'liveness restart');
    expect(eventsFor(h.store, 'default', 'live').some((e) => e.reason === 'Killing' && e.message === 'Container c failed liveness probe, will be restarted')).toBe(true);
    expect(status('live').lastState.terminated).toMatchObject({ exitCode: 143, reason: 'Error' });
  });

  it('probes readiness as soon as the startup probe passes, not a readiness period later (as upstream\'s status sync does)', async () => {
    const port = await freePort();
    // The readiness period (150 s) is longer than the wait below: only the trigger on startup can make the pod Ready.
    const server = `require('net').createServer(()=>{}).listen(+process.env.PORT)`;
    h.store.create(
      'pods',
      'default',
      pod('triggered', [
        {
          name: 'web',
          command: ['sh', '-c', `sleep 2; exec node -e "${server}"`],
          env: [{ name: 'PORT', value: String(port) }],
          startupProbe: { tcpSocket: { port }, periodSeconds: 1, failureThreshold: 60 },
          readinessProbe: { tcpSocket: { port }, periodSeconds: 150 },
        },
      ]),
    );
    const ready = await waitFor(h.store, () => cond(getPod('triggered'), 'Ready')?.status === 'True' && getPod('triggered'), 'Ready', 60_000);
    expect(ready.status.containerStatuses[0]).toMatchObject({ ready: true, started: true });
  });

  it('env and volumes from Secrets/ConfigMaps: CreateContainerConfigError until the secret appears', async () => {
    h.store.create('configmaps', 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { 'greeting.txt': 'hi from a volume' } });
    h.store.create(
      'pods',
      'default',
      pod(
        'cfgpod',
        [
          {
            name: 'c',
            command: ['sh', '-c', 'cat /etc/cfg/greeting.txt; echo; echo "token=$TOKEN"; cd $(DATA) && pwd >/dev/null && echo ok > /data/out && cat /data/out'],
            env: [
              { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
              { name: 'DATA', value: '/data' },
            ],
            volumeMounts: [
              { name: 'cfg', mountPath: '/etc/cfg' },
              { name: 'scratch', mountPath: '/data' },
            ],
          },
        ],
        { restartPolicy: 'Never', volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }, { name: 'scratch', emptyDir: {} }] },
      ),
    );
    await waitFor(h.store, () => status('cfgpod')?.state?.waiting?.reason === 'CreateContainerConfigError', 'config error');
    expect(status('cfgpod').state.waiting.message).toBe('secret "creds" not found');
    expect(getPod('cfgpod').status.phase).toBe('Pending');
    expect(eventsFor(h.store, 'default', 'cfgpod').some((e) => e.reason === 'Failed' && e.message === 'Error: secret "creds" not found')).toBe(true);
    h.store.create('secrets', 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, data: { token: Buffer.from('s3cret').toString('base64') } });
    await waitFor(h.store, () => getPod('cfgpod').status?.phase === 'Succeeded', 'Succeeded');
    expect(await text(h.kubelet.logs.open('default', 'cfgpod', {}))).toBe('hi from a volume\ntoken=s3cret\nok\n');
  });

  it('init containers run first and in order; a failing one fails a Never pod', async () => {
    h.store.create(
      'pods',
      'default',
      pod('inits', [{ name: 'main', command: ['sh', '-c', 'echo main'] }], {
        restartPolicy: 'Never',
        initContainers: [
          { name: 'one', image: 'busybox', command: ['sh', '-c', 'sleep 0.3; echo one'] },
          { name: 'two', image: 'busybox', command: ['sh', '-c', 'echo two'] },
        ],
      }),
    );
    const during = await waitFor(h.store, () => getPod('inits').status?.initContainerStatuses?.[0]?.state?.running && getPod('inits'), 'init one running');
    expect(during.status.phase).toBe('Pending');
    expect(cond(during, 'Initialized')).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [one two]' });
    expect(during.status.containerStatuses[0].state.waiting.reason).toBe('PodInitializing');
    const done = await waitFor(h.store, () => getPod('inits').status?.phase === 'Succeeded' && getPod('inits'), 'Succeeded');
    const one = Date.parse(done.status.initContainerStatuses[0].state.terminated.finishedAt);
    const two = Date.parse(done.status.initContainerStatuses[1].state.terminated.startedAt);
    expect(two).toBeGreaterThanOrEqual(one);
    expect(done.status.initContainerStatuses.map((x: any) => x.ready)).toEqual([true, true]);

    h.store.create(
      'pods',
      'default',
      pod('badinit', [{ name: 'main', command: ['sh', '-c', 'echo never'] }], {
        restartPolicy: 'Never',
        initContainers: [{ name: 'boom', image: 'busybox', command: ['sh', '-c', 'echo oops; exit 2'], terminationMessagePolicy: 'FallbackToLogsOnError' }],
      }),
    );
    const failed = await waitFor(h.store, () => getPod('badinit').status?.phase === 'Failed' && getPod('badinit'), 'Failed');
    expect(failed.status.initContainerStatuses[0].state.terminated).toMatchObject({ exitCode: 2, reason: 'Error', message: 'oops\n' });
    expect(failed.status.initContainerStatuses[0].ready).toBe(false);
    expect(failed.status.containerStatuses[0].state.waiting.reason).toBe('PodInitializing');
  });

  it('a command missing on the machine ends as StartError (exit 128) and crash-loops', async () => {
    h.store.create('pods', 'default', pod('nobin', [{ name: 'c', command: ['no-such-binary-for-the-sandbox'] }]));
    const p = await waitFor(h.store, () => status('nobin')?.state?.waiting?.reason === 'CrashLoopBackOff' && getPod('nobin'), 'CrashLoopBackOff');
    expect(p.status.containerStatuses[0].lastState.terminated).toMatchObject({
      exitCode: 128,
      reason: 'StartError',
      message: 'failed to start container: exec: "no-such-binary-for-the-sandbox": executable file not found in $PATH',
    });
    const reasons = eventsFor(h.store, 'default', 'nobin').map((e) => e.reason);
    expect(reasons).toContain('Failed');
    expect(reasons).not.toContain('Started');
  });

  it('a sidecar (restartable init container) starts before the main container and is stopped when it finishes', async () => {
    h.store.create(
      'pods',
      'default',
      pod('withsidecar', [{ name: 'main', command: ['sh', '-c', 'sleep 0.5; echo main done'] }], {
        restartPolicy: 'Never',
        initContainers: [{ name: 'proxy', image: 'envoy', restartPolicy: 'Always', command: ['sleep', '300'] }],
      }),
    );
    const running = await waitFor(h.store, () => getPod('withsidecar').status?.containerStatuses?.[0]?.state?.running && getPod('withsidecar'), 'main running');
    expect(running.status.phase).toBe('Running');
    expect(running.status.initContainerStatuses[0]).toMatchObject({ name: 'proxy', ready: true, started: true, state: { running: {} } });
    expect(cond(running, 'Initialized')?.status).toBe('True');
    const done = await waitFor(h.store, () => getPod('withsidecar').status?.phase === 'Succeeded' && getPod('withsidecar'), 'Succeeded');
    expect(done.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    await waitFor(h.store, () => getPod('withsidecar').status?.initContainerStatuses?.[0]?.state?.terminated, 'sidecar stopped');
  });

  it('pod activeDeadlineSeconds fails the pod with DeadlineExceeded', async () => {
    h.store.create('pods', 'default', pod('deadline', [{ name: 'c', command: ['sleep', '300'] }], { activeDeadlineSeconds: 1 }));
    const p = await waitFor(h.store, () => getPod('deadline').status?.phase === 'Failed' && getPod('deadline'), 'Failed');
    expect(p.status).toMatchObject({ reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' });
  });

  it('stop() kills every process it started', async () => {
    h.store.create('pods', 'default', pod('orphan', [{ name: 'c', command: ['sh', '-c', 'echo "pid $$$$"; sleep 300'] }]));
    const printed = await eventually(async () => {
      const out = await readAll('orphan', 'c');
      return out.startsWith('pid') && out;
    }, 'pid printed');
    const pid = Number(printed.trim().split(' ')[1]);
    expect(pidAlive(pid)).toBe(true);
    await h.kubelet.stop();
    await waitFor(h.store, () => !pidAlive(pid), 'process gone', 3000, 20);
  });
});

/** Current log text of a container, or '' while it cannot be read. */
async function readAll(pod: string, container: string): Promise<string> {
  try {
    return await text(h.kubelet.logs.open('default', pod, { container }));
  } catch {
    return '';
  }
}
