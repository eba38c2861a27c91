/**
 * The GitHub Actions runner's rules for workflow commands in a step's output, as actions/runner applies them
 * (src/Runner.Worker/ActionCommandManager.cs, src/Runner.Common/ActionCommand.cs; re-implemented, not copied):
 *
 * - Output is read line by line; a line ends at `\r`, `\n` or `\r\n` (.NET ReadLine).
 * - v2 form: after leading whitespace, `::name key=value,key=value::data`.
 * - v1 (legacy) form, tried when v2 fails: `##[name key=value;key=value]data` ANYWHERE in the line.
 * - Only registered names count (case-insensitive). `stop-commands` stops processing until a line names its data
 *   (the token) as a command, `::token::` or `##[token]`; while stopped every other command is ignored.
 */

export interface WorkflowCommand {
  command: string;
  properties: Record<string, string>;
  data: string;
  /** The output line it came from (0-based). */
  line: number;
}

export interface ParsedOutput {
  /** Commands the runner would process, in order (stop-commands and resume tokens included). */
  commands: WorkflowCommand[];
  /** Still stopped at the end: the runner would ignore every later command of the job's steps. */
  stoppedAtEnd: boolean;
  lines: string[];
}

/** The runner's command extensions (plus `stop-commands`). */
export const REGISTERED_COMMANDS = [
  'stop-commands',
  'set-env',
  'set-output',
  'save-state',
  'add-mask',
  'add-path',
  'add-matcher',
  'remove-matcher',
  'debug',
  'warning',
  'error',
  'notice',
  'group',
  'endgroup',
  'echo',
];

function unescape(text: string, mappings: [string, string][]): string {
  let out = text;
  for (const [token, replacement] of mappings) out = out.split(replacement).join(token);
  return out;
}
// The runner's own mapping order (the `%25` last), so `%253B` becomes `%3B`.
const DATA: [string, string][] = [['\r', '%0D'], ['\n', '%0A'], ['%', '%25']];
const PROPERTY: [string, string][] = [['\r', '%0D'], ['\n', '%0A'], [':', '%3A'], [',', '%2C'], ['%', '%25']];
const LEGACY: [string, string][] = [[';', '%3B'], ['\r', '%0D'], ['\n', '%0A'], [']', '%5D'], ['%', '%25']];

function known(name: string, registered: Set<string>): boolean {
  return registered.has(name.toLowerCase());
}

function properties(text: string, separator: string, mappings: [string, string][]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(separator).filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) continue;
    out[part.slice(0, eq)] = unescape(part.slice(eq + 1), mappings);
  }
  return out;
}

function parseV2(line: string, registered: Set<string>): Omit<WorkflowCommand, 'line'> | undefined {
  const message = line.trimStart();
  if (!message.startsWith('::')) return undefined;
  const end = message.indexOf('::', 2);
  if (end < 0) return undefined;
  const info = message.slice(2, end);
  const space = info.indexOf(' ');
  const command = space < 0 ? info : info.slice(0, space);
  if (!known(command, registered)) return undefined;
  return { command, properties: space > 0 ? properties(info.slice(space + 1).trim(), ',', PROPERTY) : {}, data: unescape(message.slice(end + 2), DATA) };
}

function parseV1(line: string, registered: Set<string>): Omit<WorkflowCommand, 'line'> | undefined {
  const start = line.indexOf('##[');
  if (start < 0) return undefined;
  const rb = line.indexOf(']', start);
  if (rb < 0) return undefined;
  const info = line.slice(start + 3, rb);
  const space = info.indexOf(' ');
  const command = space < 0 ? info : info.slice(0, space);
  if (!known(command, registered)) return undefined;
  return { command, properties: space > 0 ? properties(info.slice(space + 1), ';', LEGACY) : {}, data: unescape(line.slice(rb + 1), LEGACY) };
}

/** Parses a step's whole output by the runner's rules. */
export function parseWorkflowOutput(output: string): ParsedOutput {
  const registered = new Set(REGISTERED_COMMANDS);
  const lines = output.split(/\r\n|\r|\n/);
  const commands: WorkflowCommand[] = [];
  let stopToken: string | undefined;
  lines.forEach((text, line) => {
    if (text === '') return;
    const c = parseV2(text, registered) ?? parseV1(text, registered);
    if (!c) return;
    if (stopToken !== undefined) {
      if (stopToken !== '' && c.command.toLowerCase() === stopToken.toLowerCase()) {
        registered.delete(stopToken.toLowerCase());
        stopToken = undefined;
        commands.push({ ...c, line });
      }
      return;
    }
    if (c.command.toLowerCase() === 'stop-commands') {
      stopToken = c.data;
      registered.add(c.data.toLowerCase());
    }
    commands.push({ ...c, line });
  });
  return { commands, stoppedAtEnd: stopToken !== undefined, lines };
}

/**
 * The commands that are not the action's own framing: anything but `stop-commands` blocks with a long random token,
 * their resumes, and the commands `allowed` says the action issues itself.
 */
export function foreignCommands(parsed: ParsedOutput, allowed: (c: WorkflowCommand) => boolean): WorkflowCommand[] {
  const tokens = new Set<string>();
  return parsed.commands.filter((c) => {
    const name = c.command.toLowerCase();
    if (name === 'stop-commands' && /^[0-9a-f]{32,}$/.test(c.data)) {
      tokens.add(c.data.toLowerCase());
      return false;
    }
    if (tokens.has(name)) return false;
    return !allowed(c);
  });
}
