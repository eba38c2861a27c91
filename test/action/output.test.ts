/** The action's output layer against the runner's command rules, and the rules' parser itself. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { actionLogger } from '../../src/action/logger.js';
import * as out from '../../src/action/output.js';
import { safeLine, safeLines } from '../../src/engine/untrusted.js';
import { foreignCommands, parseWorkflowOutput } from './support/workflow-commands.js';

function captureStdout(): () => string {
  const chunks: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  return () => chunks.join('');
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the runner rules parser', () => {
  it('reads ::name k=v::data at a line start and ##[name k=v]data anywhere, at \\r, \\n and \\r\\n', () => {
    const parsed = parseWorkflowOutput('  ::set-output name=a%2Cb::x%0Ay\rtext ##[add-mask]secret\r\n::unknown::z\n::error file=f,line=3::boom');
    expect(parsed.commands.map((c) => [c.command, c.properties, c.data])).toEqual([
      ['set-output', { name: 'a,b' }, 'x\ny'],
      ['add-mask', {}, 'secret'],
      ['error', { file: 'f', line: '3' }, 'boom'],
    ]);
  });

  it('honours stop-commands until its token, in either form, case-insensitively, and says when left stopped', () => {
    const parsed = parseWorkflowOutput('::stop-commands::Tok\n::error::hidden\n##[stop-commands]other\nx ##[tok]\n::warning::seen\n::stop-commands::t2\n');
    expect(parsed.commands.map((c) => c.command)).toEqual(['stop-commands', 'tok', 'warning', 'stop-commands']);
    expect(parsed.stoppedAtEnd).toBe(true);
    expect(parseWorkflowOutput('::stop-commands::\n::t::\n').stoppedAtEnd).toBe(true);
  });
});

describe('untrusted text', () => {
  it('becomes one line, or the runner\'s lines, with no marker left', () => {
    expect(safeLine('a\r\nb\rc\nd ##[error]x')).toBe('a\\r\\nb\\rc\\nd ##\u200b[error]x');
    expect(safeLine('  ::set-output name=x::y')).toBe('  :\u200b:set-output name=x::y');
    expect(safeLines('one\r::two::\r\n##[three]\n')).toEqual(['one', ':\u200b:two::', '##\u200b[three]']);
  });
});

describe('the action output', () => {
  it('prints engine messages, stage lines, problems past the 10th and a multi-line termination message as plain text', async () => {
    const stdout = captureStdout();
    const logger = actionLogger('project');
    await logger.group('Step 1/1: ##[error]x', async () => {
      logger.info('[##[error]x] \r::set-output name=x::y');
      logger.info('[train] ##[add-mask]x');
      logger.info('[train] ::stop-commands::t');
      // What attemptFailure makes of a container's termination message (a stage controls /dev/termination-log).
      logger.error("[train] exit code 1: line one\n::set-output name=m::n\r\n##[error]exit\n::t::");
    });
    const problem = { severity: 'error' as const, file: 'bodywork.ini', line: 3, column: 1, message: 'value "a\n::set-output name=p::q"' };
    for (let i = 0; i < 12; i++) logger.error(`project/bodywork.ini:3: value "a\n::set-output name=p${i}::q\r##[add-mask]v"`, problem);
    out.print('a\r::save-state name=s::v\nb');
    out.flush();
    const text = stdout();
    const parsed = parseWorkflowOutput(text);
    expect(parsed.stoppedAtEnd).toBe(false);
    const foreign = foreignCommands(parsed, (c) => ['group', 'endgroup'].includes(c.command) || (c.command === 'error' && c.properties.title === 'Bodywork config'));
    expect(foreign).toEqual([]);
    expect(parsed.commands.filter((c) => c.command === 'error')).toHaveLength(10);
    for (const c of parsed.commands) expect(c.data).not.toMatch(/##\[|[\r\n]/);
    // Everything is still there to read.
    expect(text).toContain('exit code 1: line one\\n:');
    // Each problem is a `path:line:col: message` line (also past the 10th annotation), its message escaped.
    expect(text.split('project/bodywork.ini:3:1: value "a\\n::set-output name=p::q"')).toHaveLength(13);
  });

  it('uses a fresh token per block and never leaves the runner stopped around a command', () => {
    const stdout = captureStdout();
    out.info('one');
    out.debug('a command');
    out.info('two');
    out.flush();
    const parsed = parseWorkflowOutput(stdout());
    const stops = parsed.commands.filter((c) => c.command === 'stop-commands').map((c) => c.data);
    expect(stops).toHaveLength(2);
    expect(new Set(stops).size).toBe(2);
    expect(parsed.commands.map((c) => c.command)).toEqual(['stop-commands', stops[0], 'debug', 'stop-commands', stops[1]]);
  });
});
