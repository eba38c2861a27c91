/**
 * The host-network fallback's pod addresses (network/loopback.ts): two sandboxes on one machine never hand out the
 * same loopback address, a sandbox that dies leaves no claim behind, and a gone pod's address is handed out again
 * only once the claimed blocks have no fresh one.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LoopbackAddresses, LoopbackBlocks } from '../../../src/sandbox/network/loopback.js';
import type { KubeObject } from '../../../src/sandbox/types.js';

// Claims of these tests' own, apart from any sandbox running on this machine meanwhile.
const prefix = () => `bodywork-test-loopback-${process.pid}-${Math.random().toString(36).slice(2)}`;
const pod = (uid: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: uid, namespace: 'ml', uid }, spec: { containers: [] } });
const dirs: string[] = [];
const shimDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'bodywork-loopback-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe.runIf(process.platform === 'linux')('loopback address blocks', () => {
  it('are claimed lowest free first, never by two holders at once, and free again once given back', async () => {
    const p = prefix();
    const a = new LoopbackBlocks(p);
    const b = new LoopbackBlocks(p);
    expect(await a.claim()).toBe(0);
    expect(await b.claim()).toBe(1);
    expect(await a.claim()).toBe(2);
    a.release();
    const c = new LoopbackBlocks(p);
    expect(await c.claim()).toBe(0);
    b.release();
    c.release();
  });

  it('claimed after they were given back (a claim ahead of need that answers late) are freed at once', async () => {
    const p = prefix();
    const a = new LoopbackBlocks(p);
    expect(await a.claim()).toBe(0);
    const late = a.claim();
    a.release();
    expect(await late).toBe(1);
    const [b, c] = [new LoopbackBlocks(p), new LoopbackBlocks(p)];
    expect(await b.claim()).toBe(0);
    expect(await c.claim()).toBe(1);
    b.release();
    c.release();
  });

  it('held by a process that died are free at once (the kernel drops its claim)', async () => {
    const p = prefix();
    const loopback = join(import.meta.dirname, '../../../src/sandbox/network/loopback.ts');
    const script = `import { LoopbackBlocks } from ${JSON.stringify(loopback)}; const b = await new LoopbackBlocks(${JSON.stringify(p)}).claim(); console.log('claimed', b); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const claimed = await new Promise<string>((resolve) => child.stdout.on('data', (d: Buffer) => resolve(d.toString().trim())));
    expect(claimed).toBe('claimed 0');
    const ours = new LoopbackBlocks(p);
    expect(await ours.claim()).toBe(1);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    expect(await new LoopbackBlocks(p).claim()).toBe(0);
    ours.release();
  });
});

describe.runIf(process.platform === 'linux')('loopback pod addresses', () => {
  it('of two sandboxes differ; a gone pod’s address comes back only after the fresh ones, longest-free first', async () => {
    const p = prefix();
    const one = await LoopbackAddresses.create('127.0.0.1', shimDir(), new LoopbackBlocks(p));
    const two = await LoopbackAddresses.create('127.0.0.1', shimDir(), new LoopbackBlocks(p));
    expect(one.addressOf(pod('a'))).toBe('127.1.0.1');
    expect(one.addressOf(pod('a'))).toBe('127.1.0.1');
    expect(two.addressOf(pod('x'))).toBe('127.1.1.1');
    expect(one.addressOf({ ...pod('h'), spec: { containers: [], hostNetwork: true } })).toBe('127.0.0.1');

    one.release('a');
    expect(one.addressOf(pod('b'))).toBe('127.1.0.2');
    // 254 pods in all take every address of the first block; the next block was claimed ahead of need (not block 1,
    // which the other sandbox holds), and its addresses come before 'a''s is reused.
    const seen = new Set<string>();
    for (let i = 0; i < 230; i++) seen.add(one.addressOf(pod(`p${i}`)));
    await one.claimed();
    for (let i = 230; i < 260; i++) seen.add(one.addressOf(pod(`p${i}`)));
    expect(seen.size).toBe(260);
    expect(seen.has('127.1.0.1')).toBe(false);
    expect([...seen].filter((ip) => ip.startsWith('127.1.1.'))).toEqual([]);
    expect(seen.has('127.1.2.1')).toBe(true);
    one.stop();
    two.stop();
  });
});
