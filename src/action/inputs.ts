/**
 * The action's inputs, read in one place. Empty strings (how the runner passes an unset input)
 * become `undefined` here, so the rest of the code has one notion of "not given".
 */
import * as core from '@actions/core';

export const COMMANDS = ['plan'] as const;
export type ActionCommand = (typeof COMMANDS)[number];

export interface ActionInputs {
  command: ActionCommand;
  /** Absolute or workspace-relative project directory. */
  projectDir: string;
  namespace?: string;
  image?: string;
  ingressClass?: string;
}

function optional(name: string): string | undefined {
  const value = core.getInput(name).trim();
  return value === '' ? undefined : value;
}

export function readInputs(): ActionInputs {
  const command = optional('command') ?? 'plan';
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new Error(`input command: expected one of ${COMMANDS.join(', ')}, got '${command}'`);
  }
  return {
    command: command as ActionCommand,
    projectDir: optional('project-dir') ?? '.',
    namespace: optional('namespace'),
    image: optional('image'),
    ingressClass: optional('ingress-class'),
  };
}
