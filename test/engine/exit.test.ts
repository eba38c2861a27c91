/** exitWhenFlushed (src/engine/exit.ts): a process ended early loses none of its output and keeps its exit code. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const exitModule = new URL('../../src/engine/exit.ts', import.meta.url).href;

/** Runs `body` in a child with exitWhenFlushed imported; reads its stdout only after `readAfterMs`, so a pipe fills. */
function runChild(body: string, readAfterMs: number): Promise<{ code: number | null; bytes: number; last: string }> {
  const script = `import { exitWhenFlushed } from ${JSON.stringify(exitModule)};\n${body}`;
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout.pause();
  setTimeout(() => child.stdout.resume(), readAfterMs);
  let bytes = 0;
  let last = '';
  child.stdout.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    last = (last + chunk.toString('latin1')).slice(-64);
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, bytes, last }));
  });
}

describe('exitWhenFlushed', () => {
  it('writes everything queued for a pipe that is read late, then exits with the code given', async () => {
    // 8 MiB is far more than a pipe holds (64 KiB), so most of it is still queued in the process when it exits.
    const r = await runChild("const line = 'x'.repeat(1023) + '\\n'; for (let i = 0; i < 8192; i++) process.stdout.write(line); process.stdout.write('END\\n'); await exitWhenFlushed(3);", 300);
    expect(r.code).toBe(3);
    expect(r.bytes).toBe(8192 * 1024 + 4);
    expect(r.last.endsWith('END\n')).toBe(true);
  });

  it('without a code, exits with process.exitCode', async () => {
    const r = await runChild("process.exitCode = 1; process.stdout.write('failed\\n'); await exitWhenFlushed();", 0);
    expect(r).toMatchObject({ code: 1, last: 'failed\n' });
  });
});
