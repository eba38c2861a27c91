import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildEnv, expand, mountMap, rewritePaths } from '../../../src/sandbox/kubelet/config.js';
import { LogFileStream, readLogTail } from '../../../src/sandbox/kubelet/log-reader.js';
import { LogWriter } from '../../../src/sandbox/kubelet/logs.js';
import { goDuration } from '../../../src/sandbox/kubelet/backoff.js';
import { normalizeImage } from '../../../src/sandbox/machinery/images.js';
import { lookPath } from '../../../src/sandbox/kubelet/run-as.js';
import { text } from 'node:stream/consumers';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-unit-'));
  dirs.push(d);
  return d;
}
describe('container logs', () => {
  it('keeps partial lines, interleaves streams in order and filters by time', async () => {
    const file = path.join(tmp(), 'c', '0.log');
    const w = new LogWriter(file);
    w.write('stdout', Buffer.from('a1\na'));
    w.write('stderr', Buffer.from('e1\n'));
    w.write('stdout', Buffer.from('2\nno newline'));
    w.close();
    expect(await text(new LogFileStream(file, w, {}))).toBe('a1\ne1\na2\nno newline');
    expect(await text(new LogFileStream(file, w, { tailLines: 2 }))).toBe('a2\nno newline');
    expect(await text(new LogFileStream(file, w, { sinceTime: new Date(Date.now() + 60_000).toISOString() }))).toBe('');
    expect(await text(new LogFileStream(file, w, { sinceSeconds: 60 }))).toBe('a1\ne1\na2\nno newline');
    expect(await text(new LogFileStream(file, w, { sinceSeconds: 60, tailLines: 2 }))).toBe('a2\nno newline');
    expect(await text(new LogFileStream(file, w, { tailLines: 9 }))).toBe('a1\ne1\na2\nno newline');
    expect(fs.readFileSync(file, 'utf8').split('\n')[0]).toMatch(/^\S+Z stdout F a1$/);
  });

  it('follow ends with the instance and honours limitBytes', async () => {
    const file = path.join(tmp(), 'c', '0.log');
    const w = new LogWriter(file);
    w.write('stdout', Buffer.from('before\n'));
    const s = new LogFileStream(file, w, { follow: true });
    const limited = new LogFileStream(file, w, { follow: true, limitBytes: 10 });
    const all = text(s);
    const cut = text(limited);
    w.write('stdout', Buffer.from('after\n'));
    w.close();
    expect(await all).toBe('before\nafter\n');
    expect(await cut).toBe('before\naft');
  });
});

describe('reading a large log', () => {
  /** A closed log of `n` lines `line <i> é…` (multi-byte characters fall across every read boundary). */
  function bigLog(n: number): { file: string; w: LogWriter; lines: string[] } {
    const file = path.join(tmp(), 'c', '0.log');
    const w = new LogWriter(file);
    const lines = Array.from({ length: n }, (_, i) => `line ${i} ${'é'.repeat(i % 97)}\n`);
    for (let i = 0; i < n; i += 1000) w.write('stdout', Buffer.from(lines.slice(i, i + 1000).join('')));
    w.close();
    return { file, w, lines };
  }

  it('reads every line once, in order, whatever falls on a chunk boundary', async () => {
    const { file, w, lines } = bigLog(20_000);
    expect(fs.statSync(file).size).toBeGreaterThan(1024 * 1024);
    expect(await text(new LogFileStream(file, w, {}))).toBe(lines.join(''));
    expect(await text(new LogFileStream(file, w, { tailLines: 3 }))).toBe(lines.slice(-3).join(''));
    expect(await text(new LogFileStream(file, w, { tailLines: 0 }))).toBe('');
    expect(await text(new LogFileStream(file, w, { limitBytes: 100 }))).toBe(Buffer.from(lines.join('')).subarray(0, 100).toString());
  });

  it('reads no further ahead than its reader while the reader does not read', async () => {
    const { file, w } = bigLog(20_000);
    const s = new LogFileStream(file, w, {});
    await new Promise((resolve) => s.once('readable', resolve));
    // Time for a reader that ignored backpressure to read ahead; this one stops at the first push the buffer refused
    // and holds about one 64 KiB read, not the 1 MB file, however long it is given.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(s.readableLength).toBeLessThan(256 * 1024);
    s.destroy();
  });

  it('gives FallbackToLogsOnError the last 80 lines, 2048 bytes at most, from the end of the file', () => {
    const { file, lines } = bigLog(20_000);
    const want = Buffer.from(lines.slice(-80).join(''));
    expect(readLogTail(file, 80, 2048)).toBe(want.subarray(want.length - 2048).toString());
    const short = path.join(tmp(), 'c', '0.log');
    const w = new LogWriter(short);
    w.write('stderr', Buffer.from('Traceback\nValueError: x'));
    w.close();
    expect(readLogTail(short, 80, 2048)).toBe('Traceback\nValueError: x');
    expect(readLogTail(path.join(tmp(), 'none.log'), 80, 2048)).toBe('');
  });
});

describe('container config', () => {
  it('expands $(VAR) like the kubelet, $$ escapes', () => {
    const vars = new Map([['A', 'x'], ['B', 'y']]);
    expect(expand('$(A)-$(B)-$(C)-$$(A)-$$-$1', vars)).toBe('x-y-$(C)-$(A)-$-$1');
  });
  it('rewrites mount paths by prefix only where a path starts', () => {
    const dir = tmp();
    const mm = mountMap(
      { volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg' }, { name: 'data', mountPath: '/data' }, { name: 'sub', mountPath: '/etc/cfg/inner', subPath: 'x' }] },
      new Map([['cfg', `${dir}/cfg`], ['data', `${dir}/data`], ['sub', `${dir}/sub`]]),
    );
    expect(rewritePaths('cat /etc/cfg/a.ini', mm)).toBe(`cat ${dir}/cfg/a.ini`);
    expect(rewritePaths('--config=/etc/cfg', mm)).toBe(`--config=${dir}/cfg`);
    expect(rewritePaths('/etc/cfg/inner/f', mm)).toBe(`${dir}/sub/x/f`);
    expect(rewritePaths('/etc/cfgx /database /data:/data/y', mm)).toBe(`/etc/cfgx /database ${dir}/data:${dir}/data/y`);
  });
  it('formats durations and image references as Go and the runtime do', () => {
    expect(goDuration(10_000)).toBe('10s');
    expect(goDuration(80_000)).toBe('1m20s');
    expect(goDuration(300_000)).toBe('5m0s');
    expect(goDuration(200)).toBe('200ms');
    expect(normalizeImage('busybox')).toBe('docker.io/library/busybox:latest');
    expect(normalizeImage('bodyworkml/bodywork-core:3.1')).toBe('docker.io/bodyworkml/bodywork-core:3.1');
    expect(normalizeImage('ghcr.io/org/img')).toBe('ghcr.io/org/img:latest');
    expect(normalizeImage('localhost:5000/img:1')).toBe('localhost:5000/img:1');
  });
});

describe('command lookup as the pod user', () => {
  it('skips PATH directories the user cannot search and files it cannot execute, as the runtime does after dropping privileges', () => {
    const root = tmp();
    fs.chmodSync(root, 0o755); // mkdtemp's 0700 would hide everything from the other user
    const mk = (dir: string, dirMode: number, file: string, fileMode: number): string => {
      const d = path.join(root, dir);
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, file), '#!/bin/sh\n');
      fs.chmodSync(path.join(d, file), fileMode);
      fs.chmodSync(d, dirMode);
      return d;
    };
    const priv = mk('private', 0o700, 'tool', 0o755);
    const noexec = mk('noexec', 0o755, 'tool', 0o644);
    const pub = mk('public', 0o755, 'tool', 0o755);
    fs.symlinkSync(priv, path.join(root, 'link-to-private'));
    // Someone who owns none of these files (they are ours): only the "other" bits apply.
    const other = { uid: (process.getuid?.() ?? 0) + 4242, gid: (process.getgid?.() ?? 0) + 4242 };
    expect(lookPath('tool', [priv, noexec].join(':'), '/', other)).toBeUndefined();
    expect(lookPath('tool', [priv, path.join(root, 'link-to-private'), noexec, pub].join(':'), '/', other)).toBe(path.join(pub, 'tool'));
    expect(lookPath(path.join(priv, 'tool'), '', '/', other)).toBeUndefined();
    expect(lookPath(path.join(root, 'link-to-private', 'tool'), '', '/', other)).toBeUndefined();
    expect(lookPath('./public/tool', '', root, other)).toBe('./public/tool');
    expect(lookPath('./private/tool', '', root, other)).toBeUndefined();
    // The owner may use its private directory; a directory is never an executable.
    expect(lookPath('tool', priv, '/', { uid: process.getuid?.() ?? 0, gid: other.gid })).toBe(path.join(priv, 'tool'));
    expect(lookPath('public', root, '/', other)).toBeUndefined();
    fs.chmodSync(priv, 0o755); // for the clean-up
  });
});

describe('resourceFieldRef', () => {
  it('gives the value over the divisor, rounded up, in exact units (CPU in milli-units), limits defaulting to the node', () => {
    const ref = (resource: string, divisor?: string) => ({ valueFrom: { resourceFieldRef: { resource, ...(divisor ? { divisor } : {}) } } });
    const container = {
      resources: { requests: { cpu: '250m', memory: '100Mi' }, limits: { cpu: '1500m' } },
      env: [
        { name: 'REQ_CPU', ...ref('requests.cpu') },
        { name: 'REQ_CPU_M', ...ref('requests.cpu', '1m') },
        { name: 'LIM_CPU', ...ref('limits.cpu') },
        { name: 'REQ_MEM_MI', ...ref('requests.memory', '1Mi') },
        { name: 'REQ_MEM_G', ...ref('requests.memory', '1G') },
        { name: 'LIM_MEM', ...ref('limits.memory') },
        { name: 'REQ_STORAGE', ...ref('requests.ephemeral-storage') },
      ],
    };
    const ctx = { store: { find: () => undefined }, pod: { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'ns', name: 'p' } }, hostIP: '10.0.0.1', podIP: '10.0.0.2', hostCpus: 2, hostMem: 8 * 2 ** 30 };
    const env = Object.fromEntries(buildEnv(ctx, container));
    expect(env).toMatchObject({ REQ_CPU: '1', REQ_CPU_M: '250', LIM_CPU: '2', REQ_MEM_MI: '100', REQ_MEM_G: '1', LIM_MEM: String(8 * 2 ** 30), REQ_STORAGE: '0' });
  });
});
