/** The program loads the subcommands a command line needs (program.ts: each is a chunk of its own in the bundle). */
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { commandsFor, createProgram, run, runsLong } from '../../src/cli/program.js';

const io: CliIo = { stdout: () => {}, stderr: () => {} };
const ALL = ['validate', 'plan', 'deploy', 'status', 'cancel', 'schedule', 'teardown', 'secret', 'sandbox'];

describe('the subcommands loaded', () => {
  it('each registers itself under the name it is loaded by', async () => {
    expect(commandsFor([])).toEqual(ALL);
    for (const name of ALL) expect((await createProgram(io, [name])).commands.map((c) => c.name())).toEqual([name]);
  });

  it('a command line naming one loads it alone, --version none, anything else all of them', () => {
    expect(commandsFor(['validate', 'examples/iris-pipeline'])).toEqual(['validate']);
    expect(commandsFor(['secret', 'create', 'x'])).toEqual(['secret']);
    expect(commandsFor(['--version'])).toEqual([]);
    expect(commandsFor(['-V'])).toEqual([]);
    for (const args of [['--help'], ['-h'], ['help', 'deploy'], ['valdate'], ['--bogus', 'validate']]) expect(commandsFor(args)).toEqual(ALL);
  });

  it('the heap bounds are for deploy and sandbox alone (commands that run long and stream logs)', () => {
    expect(runsLong(['deploy', 'examples/iris-pipeline', '--sandbox'])).toBe(true);
    expect(runsLong(['sandbox'])).toBe(true);
    for (const args of [['validate', 'x'], ['plan', 'x'], ['--version'], ['--help'], ['help', 'deploy'], ['status']]) expect(runsLong(args)).toBe(false);
  });

  it('help lists every command, and a typo is still suggested the command it meant', async () => {
    let out = '';
    let err = '';
    const capture: CliIo = { stdout: (t) => void (out += t), stderr: (t) => void (err += t) };
    expect(await run(['--help'], capture)).toBe(0);
    for (const name of ALL) expect(out).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    expect(await run(['valdate'], capture)).toBe(2);
    expect(err).toContain('(Did you mean validate?)');
  });
});
