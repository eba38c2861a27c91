import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderActionTables, withActionTables } from '../../scripts/action-docs.js';

const root = join(import.meta.dirname, '..', '..');
const read = (f: string) => readFileSync(join(root, f), 'utf8');

describe('the README', () => {
  it('lists exactly the inputs and outputs of action.yml (run `npm run docs` to regenerate)', () => {
    const readme = read('README.md');
    expect(withActionTables(readme, read('action.yml'))).toBe(readme);
  });

  it("shows the job summary's pictures, committed under docs/ (test/action/screenshots.test.ts makes them)", () => {
    const readme = read('README.md');
    for (const png of ['docs/summary-success.png', 'docs/summary-failure.png']) {
      expect(readme).toContain(`](${png})`);
      expect(existsSync(join(root, png)), png).toBe(true);
    }
  });

  it('renders defaults, required inputs and pipes in descriptions', () => {
    const tables = renderActionTables(
      'inputs:\n  a:\n    description: one | two\n    default: x\n  b:\n    description: multi\n      line\n    required: true\noutputs:\n  o:\n    description: out\n',
    );
    expect(tables.split('\n')).toEqual([
      '| Input | Description | Default |',
      '| --- | --- | --- |',
      '| `a` | one \\| two | `x` |',
      '| `b` | multi line | required |',
      '',
      '| Output | Description |',
      '| --- | --- |',
      '| `o` | out |',
    ]);
  });
});

describe('action.yml', () => {
  it('meets the Marketplace: a name and a description of at most 125 characters, branding', () => {
    const meta = parse(read('action.yml')) as { name?: string; description?: string; branding?: { icon?: string; color?: string } };
    expect(meta.name).toBeTruthy();
    expect(meta.description?.length).toBeLessThanOrEqual(125);
    expect(meta.branding).toEqual({ icon: expect.any(String), color: expect.any(String) });
  });
});
