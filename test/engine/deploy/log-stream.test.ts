/** followPodLog against a scripted log endpoint: resumption after a cut stream without repeating or losing lines. */
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { followPodLog } from '../../../src/engine/deploy/log-stream.js';
import { KubeClient, loadKubeConfig } from '../../../src/engine/kube/index.js';
import { createCertificateAuthority, issueCertificate } from '../../../src/sandbox/pki.js';
import { kubeconfigFor } from '../kube/helpers.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

const T1 = '2024-01-01T00:00:01.100000000Z';
const T2 = '2024-01-01T00:00:02.5Z';
const T3 = '2024-01-01T00:00:03Z';

it('resumes a cut stream from the last timestamp, skipping what it delivered and dropping the cut partial line', async () => {
  const requests: URLSearchParams[] = [];
  let terminated = false;
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    expect(url.pathname).toBe('/api/v1/namespaces/ns/pods/p-1/log');
    expect(req.headers.authorization).toBe('Bearer sandbox-token-1234');
    requests.push(url.searchParams);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    if (requests.length === 1) {
      res.write(`${T1} a\n${T1} b\n${T2} c\n${T2} par`);
      // Cut the connection mid-line, as a proxy's idle timeout would.
      setImmediate(() => res.socket?.destroy());
    } else if (requests.length === 2) {
      terminated = true;
      res.end(`${T2} c\n${T2} partial line\n${T3} d\n`);
    } else {
      res.end(`${T3} d\n`);
    }
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = KubeClient.create(loadKubeConfig({ content: kubeconfigFor(url) }).kc);
  const lines: string[] = [];
  const errors: string[] = [];
  await followPodLog({
    client,
    namespace: 'ns',
    pod: 'p-1',
    container: 'bodywork',
    signal: new AbortController().signal,
    onLine: (l) => lines.push(l),
    onError: (m) => errors.push(m),
    terminated: () => terminated,
    nextChange: () => Promise.resolve(),
  });
  expect(lines).toEqual(['a', 'b', 'c', 'partial line', 'd']);
  expect(errors).toHaveLength(1);
  expect(requests.map((q) => [q.get('follow'), q.get('timestamps'), q.get('container'), q.get('sinceTime')])).toEqual([
    ['true', 'true', 'bodywork', null],
    ['true', 'true', 'bodywork', '2024-01-01T00:00:02Z'],
    ['false', 'true', 'bodywork', '2024-01-01T00:00:03Z'],
  ]);
});

it('stops at once when aborted, and gives up after repeated failures', async () => {
  let n = 0;
  server = createServer((_req, res) => {
    n++;
    res.writeHead(400, { 'Content-Type': 'application/json' });
    res.end('{"kind":"Status","message":"container is waiting to start"}');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const client = KubeClient.create(loadKubeConfig({ content: kubeconfigFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}`) }).kc);
  const errors: string[] = [];
  await followPodLog({
    client,
    namespace: 'ns',
    pod: 'p-2',
    container: 'bodywork',
    signal: new AbortController().signal,
    onLine: () => {},
    onError: (m) => errors.push(m),
    terminated: () => false,
    nextChange: () => Promise.resolve(),
    maxFailures: 3,
  });
  expect(n).toBe(3);
  expect(errors.at(-1)).toContain('HTTP 400: {"kind":"Status","message":"container is waiting to start"} (failure 3/3)');

  const abort = new AbortController();
  abort.abort();
  const before = n;
  await followPodLog({ client, namespace: 'ns', pod: 'p-2', container: 'bodywork', signal: abort.signal, onLine: () => {}, terminated: () => false, nextChange: () => new Promise(() => {}) });
  expect(n).toBe(before);
});

it('does not take a following stream that ends cleanly mid-line for a whole line: the next request sends it whole, once', async () => {
  // An API server ends its response properly when its own stream from the kubelet breaks (a handler that returns),
  // so a follow can end without an error in the middle of a line while the container still writes.
  const requests: URLSearchParams[] = [];
  let terminated = false;
  server = createServer((req, res) => {
    requests.push(new URL(req.url ?? '/', 'http://x').searchParams);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    if (requests.length === 1) res.end(`${T1} a\n${T2} b\n${T2} whole li`);
    else {
      terminated = true;
      res.end(`${T2} b\n${T2} whole line\n${T3} last, without a newline`);
    }
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const client = KubeClient.create(loadKubeConfig({ content: kubeconfigFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}`) }).kc);
  const lines: string[] = [];
  await followPodLog({
    client,
    namespace: 'ns',
    pod: 'p-3',
    container: 'bodywork',
    signal: new AbortController().signal,
    onLine: (l) => lines.push(l),
    terminated: () => terminated,
    nextChange: () => Promise.resolve(),
  });
  // The last request was the final read (follow=false): its last line, without a newline, is the log's end.
  expect(requests.map((q) => q.get('follow'))).toEqual(['true', 'true', 'false']);
  expect(lines).toEqual(['a', 'b', 'whole line', 'last, without a newline']);
});

it('delivers every line exactly once however often its stream is cut, by errors or clean ends, anywhere in a line', async () => {
  // A log of numbered lines, four to a millisecond (lines that share a timestamp), with \r progress bars among them.
  const lines: { ms: number; ts: string; text: string }[] = [];
  for (let i = 0; i < 2000; i++) {
    const ms = Date.UTC(2024, 0, 1) + Math.floor(i / 4) * 37;
    const text = i % 50 === 49 ? `bar ${i} 0%\rbar ${i} 50%\rbar ${i}` : `line ${i}`;
    lines.push({ ms, ts: new Date(ms).toISOString(), text });
  }
  const rendered = lines.map((l) => `${l.ts} ${l.text}\n`);
  const starts: number[] = [];
  rendered.reduce((at, r) => (starts.push(at), at + r.length), 0);
  const full = rendered.join('');
  // Cut points in the whole log (a fixed pseudo-random sequence), each at least a line past the one before.
  const cuts: number[] = [];
  for (let at = 0, seed = 7; ; ) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    at += 60 + (seed % 6000);
    if (at >= full.length) break;
    cuts.push(at);
  }
  let request = 0;
  server = createServer((req, res) => {
    const since = new URL(req.url ?? '/', 'http://x').searchParams.get('sinceTime');
    const first = since === null ? 0 : lines.findIndex((l) => l.ms >= Date.parse(since));
    const from = first < 0 ? full.length : starts[first]!;
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    const cut = cuts[request];
    const kind = request++ % 2 === 0 ? 'error' : 'clean end';
    if (cut === undefined || cut <= from) {
      // No more cuts: the container has ended, and its last line has no newline.
      res.end(full.slice(from, -1));
      return;
    }
    res.write(full.slice(from, cut));
    if (kind === 'clean end') res.end();
    else setImmediate(() => res.socket?.destroy());
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const client = KubeClient.create(loadKubeConfig({ content: kubeconfigFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}`) }).kc);
  const got: string[] = [];
  await followPodLog({
    client,
    namespace: 'ns',
    pod: 'p-4',
    container: 'bodywork',
    signal: new AbortController().signal,
    onLine: (l) => got.push(l),
    terminated: () => request > cuts.length,
    nextChange: () => Promise.resolve(),
    maxFailures: 10_000,
  });
  expect(cuts.length).toBeGreaterThan(20);
  expect(got).toEqual(lines.map((l) => l.text.split('\r').at(-1)));
});

/**
 * An HTTPS log endpoint whose every response is one line, the pod's name; `drop(n)` says whether to close the
 * connection unanswered at its n-th request. With a client trusting its CA, and a terminated container's follow.
 */
async function tlsLogServer(drop: (n: number) => boolean = () => false) {
  const ca = await createCertificateAuthority('log-stream test');
  const pair = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server' });
  const state = { connections: 0 };
  const served = new WeakMap<object, number>();
  const https = createHttpsServer({ cert: pair.cert, key: pair.key }, (req, res) => {
    const n = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, n);
    if (drop(n)) {
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(`${T1} ${new URL(req.url ?? '/', 'https://x').pathname.split('/')[6]}\n`);
  });
  https.on('secureConnection', () => state.connections++);
  server = https;
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(https.address() as AddressInfo).port}`;
  const kubeconfig = kubeconfigFor(url).replace('    insecure-skip-tls-verify: true', `    certificate-authority-data: ${Buffer.from(ca.cert).toString('base64')}`);
  const client = KubeClient.create(loadKubeConfig({ content: kubeconfig }).kc);
  const follow = async (pod: string) => {
    const lines: string[] = [];
    const errors: string[] = [];
    await followPodLog({ client, namespace: 'ns', pod, container: 'c', signal: new AbortController().signal, onLine: (l) => lines.push(l), onError: (m) => errors.push(m), terminated: () => true, nextChange: () => Promise.resolve() });
    return { lines, errors };
  };
  return { https, state, client, follow };
}

it('log follows one after another share one kept-alive TLS connection; one the server closed is left for a new one', async () => {
  const { https, state, follow } = await tlsLogServer();
  for (let i = 0; i < 5; i++) expect(await follow(`p-${i}`)).toEqual({ lines: [`p-${i}`], errors: [] });
  expect(state.connections).toBe(1);
  // The server drops its idle connections: the next follow gets a new one, without an error.
  https.closeIdleConnections();
  expect(await follow('p-after')).toEqual({ lines: ['p-after'], errors: [] });
  expect(state.connections).toBe(2);
});

it('a request on a kept-alive connection the server drops unanswered goes again at once on a new one, without an error', async () => {
  // The second request on a connection: closed unanswered, as a server closing an idle connection just then does.
  const { state, client, follow } = await tlsLogServer((n) => n === 2);
  expect(await follow('p-1')).toEqual({ lines: ['p-1'], errors: [] });
  expect(await follow('p-2')).toEqual({ lines: ['p-2'], errors: [] });
  expect(state.connections).toBe(2);
  expect(client.requestCounts()['read logs of']).toBe(3);
});
