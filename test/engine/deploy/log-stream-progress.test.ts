/**
 * followPodLog on progress-bar output: a 40 MB stream of `\r` updates without a newline, between real lines,
 * read through the real reader from a log endpoint, keeps memory flat and delivers every real line once.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, expect, it } from 'vitest';
import { followPodLog, MAX_LOG_LINE_BYTES } from '../../../src/engine/deploy/log-stream.js';
import { KubeClient, loadKubeConfig } from '../../../src/engine/kube/index.js';
import { kubeconfigFor } from '../kube/helpers.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

// The collector, callable from a test without a flag on the test runner's command line.
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const TS = '2024-01-01T00:00:01.5Z';
const MB = 1024 * 1024;

/** Writes `chunk` `times` times, waiting for the socket to drain, as a stage's stdout would arrive. */
async function writeMany(res: ServerResponse, chunk: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
  }
}

async function serve(handler: (res: ServerResponse) => Promise<void>): Promise<KubeClient> {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    void handler(res).then(() => res.end());
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return KubeClient.create(loadKubeConfig({ content: kubeconfigFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}`) }).kc);
}

async function follow(client: KubeClient, onLine: (line: string) => void): Promise<void> {
  await followPodLog({
    client,
    namespace: 'ns',
    pod: 'p',
    container: 'bodywork',
    signal: new AbortController().signal,
    onLine,
    terminated: () => true,
    nextChange: () => Promise.resolve(),
  });
}

it('reads 40 MB of \\r progress updates with flat memory, printing the bar once, in its last state, and every real line once', async () => {
  // tqdm-style: one update ~50 bytes, `\r` before each, no newline until the bar is done.
  const update = (n: number) => `\r ${String(n % 100).padStart(2)}%|${'#'.repeat(n % 10).padEnd(10)}| ${n}/800000 [00:01<00:02, 300it/s]`;
  let block = '';
  for (let n = 0; block.length < 64 * 1024; n++) block += update(n);
  const times = Math.ceil((40 * MB) / block.length);
  const client = await serve(async (res) => {
    res.write(`${TS} epoch 1 starts\n${TS} `);
    await writeMany(res, block, times);
    res.write(`\r100%|##########| 800000/800000\n${TS} epoch 1 done\n${TS} `);
    await writeMany(res, block, times);
    res.write(`${update(7)}\r\n${TS} the end\n`);
  });

  // Memory held, not allocated: a full collection before each reading, so what the reader retains is measured,
  // not how far the collector happened to lag (which depends on the machine's load).
  const retained = () => {
    gc();
    return process.memoryUsage().heapUsed;
  };
  const base = retained();
  let peak = 0;
  const lines: string[] = [];
  await follow(client, (line) => {
    lines.push(line);
    peak = Math.max(peak, retained() - base);
  });
  expect(lines.map((l) => (l.length > 100 ? `${l.length} characters` : l))).toEqual(['epoch 1 starts', '100%|##########| 800000/800000', 'epoch 1 done', update(7).slice(1), 'the end']);
  // Each line is delivered right after 40 MB of updates: a reader that held them (rather than only the bar's
  // last state) would retain at least that much here.
  expect(peak).toBeLessThan(16 * MB);
});

it('cuts a very long line at MAX_LOG_LINE_BYTES and says how much was cut, keeping the lines around it', async () => {
  const long = 'x'.repeat(3 * MB);
  const client = await serve(async (res) => {
    res.write(`${TS} before\n${TS} `);
    await writeMany(res, long, 1);
    res.write(`\n${TS} after\r\n${TS} last partial`);
  });
  const lines: string[] = [];
  await follow(client, (line) => lines.push(line));
  // Compared by length and ending, so a failure does not print megabytes.
  expect(lines.map((l) => (l.length > 100 ? `${l.length}:${l.slice(-30)}` : l))).toEqual([
    'before',
    `${MAX_LOG_LINE_BYTES + ` … [cut ${3 * MB - MAX_LOG_LINE_BYTES} bytes]`.length}:${`x … [cut ${3 * MB - MAX_LOG_LINE_BYTES} bytes]`.padStart(30, 'x')}`,
    'after',
    'last partial',
  ]);
});

it('says where a log is cut off when reading it keeps failing', async () => {
  server = createServer((_req, res) => {
    res.writeHead(500);
    res.end('{"kind":"Status","message":"boom"}');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const client = KubeClient.create(loadKubeConfig({ content: kubeconfigFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}`) }).kc);
  const notices: string[] = [];
  await followPodLog({
    client,
    namespace: 'ns',
    pod: 'p-9',
    container: 'bodywork',
    signal: new AbortController().signal,
    onLine: () => {},
    onCutOff: (m) => notices.push(m),
    terminated: () => true,
    nextChange: () => Promise.resolve(),
    maxFailures: 2,
  });
  expect(notices).toEqual(['the log of pod p-9 is cut off here: reading it failed 2 times in a row (kubectl logs may still show the rest)']);
});
