import { describe, expect, it } from 'vitest';
import { problemUrl, renderConfigSummary } from '../../src/action/config-summary.js';

const context = { workspace: '/ws', serverUrl: 'https://github.example.com/', repository: 'acme/iris', sha: 'f'.repeat(40) };

describe('the config failure summary', () => {
  it('lists every problem, errors first, each linked to its line at the commit, all text escaped', () => {
    const text = renderConfigSummary(
      'deploy',
      'ml project',
      [
        { severity: 'warning', file: 'ml project/bodywork.yaml', line: 2, message: 'unknown key <b>colour</b>' },
        { severity: 'error', file: 'ml project/bodywork.yaml', line: 9, column: 15, message: "replicas must be a number, got 'two' | **x**" },
        { severity: 'error', file: 'ml project/stage #1/config.ini', message: 'no such file' },
      ],
      context,
    );
    expect(text).toContain('## ❌ Bodywork deploy: configuration problems in <code>ml project</code>');
    expect(text).toContain('**Failure:** 2 configuration problems in <code>ml project</code>; nothing was deployed.');
    const rows = text.split('\n').filter((l) => l.startsWith('<tr><td>'));
    expect(rows).toEqual([
      `<tr><td>error</td><td><a href="https://github.example.com/acme/iris/blob/${'f'.repeat(40)}/ml%20project/bodywork.yaml&#35;L9"><code>ml project/bodywork.yaml:9:15</code></a></td><td>replicas must be a number, got &#39;two&#39; &#124; &#42;&#42;x&#42;&#42;</td></tr>`,
      `<tr><td>error</td><td><a href="https://github.example.com/acme/iris/blob/${'f'.repeat(40)}/ml%20project/stage%20%231/config.ini"><code>ml project/stage &#35;1/config.ini</code></a></td><td>no such file</td></tr>`,
      `<tr><td>warning</td><td><a href="https://github.example.com/acme/iris/blob/${'f'.repeat(40)}/ml%20project/bodywork.yaml&#35;L2"><code>ml project/bodywork.yaml:2</code></a></td><td>unknown key &lt;b&gt;colour&lt;/b&gt;</td></tr>`,
    ]);
  });

  it('links only when the run knows its repository and commit', () => {
    expect(problemUrl('a/b.yaml', 3, { repository: 'o/r', sha: 'abc' })).toBe('https://github.com/o/r/blob/abc/a/b.yaml#L3');
    expect(problemUrl('a/b.yaml', 3, { repository: 'o/r' })).toBeUndefined();
    expect(renderConfigSummary('plan', '.', [{ severity: 'error', file: 'bodywork.yaml', line: 1, message: 'm' }], { workspace: '/ws' })).not.toContain('<a href');
  });
});
