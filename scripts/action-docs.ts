/**
 * Renders the README's inputs and outputs tables from action.yml, so the README cannot drift from
 * what the action accepts. `npm run docs` rewrites the README between the markers; a test fails
 * when the committed README differs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const START = '<!-- inputs:start -->';
const END = '<!-- inputs:end -->';

interface ActionYaml {
  inputs?: Record<string, { description?: string; default?: string; required?: boolean }>;
  outputs?: Record<string, { description?: string }>;
}

const cell = (text: string): string => text.replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|');

export function renderActionTables(actionYaml: string): string {
  const action = parse(actionYaml) as ActionYaml;
  const inputs = Object.entries(action.inputs ?? {}).map(
    ([name, i]) => `| \`${name}\` | ${cell(i.description ?? '')} | ${i.default !== undefined && i.default !== '' ? `\`${cell(String(i.default))}\`` : i.required ? 'required' : ''} |`,
  );
  const outputs = Object.entries(action.outputs ?? {}).map(([name, o]) => `| \`${name}\` | ${cell(o.description ?? '')} |`);
  return [
    '| Input | Description | Default |',
    '| --- | --- | --- |',
    ...inputs,
    '',
    '| Output | Description |',
    '| --- | --- |',
    ...outputs,
  ].join('\n');
}

/** The README with its tables section replaced by tables rendered from `actionYaml`. */
export function withActionTables(readme: string, actionYaml: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} ... ${END} section`);
  return `${readme.slice(0, start + START.length)}\n${renderActionTables(actionYaml)}\n${readme.slice(end)}`;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const root = join(import.meta.dirname, '..');
  const readmePath = join(root, 'README.md');
  writeFileSync(readmePath, withActionTables(readFileSync(readmePath, 'utf8'), readFileSync(join(root, 'action.yml'), 'utf8')));
  console.log('README.md inputs and outputs tables regenerated from action.yml');
}
