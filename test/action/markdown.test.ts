import { describe, expect, it } from 'vitest';
import { code, details, escapeHtml, table, truncateBytes } from '../../src/action/markdown.js';

describe('summary markdown', () => {
  it.each([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['**bold** _em_ `tick` [link](x) a|b ~s~ #h', '&#42;&#42;bold&#42;&#42; &#95;em&#95; &#96;tick&#96; &#91;link&#93;(x) a&#124;b &#126;s&#126; &#35;h'],
    ['"quoted" & \'single\'', '&quot;quoted&quot; &amp; &#39;single&#39;'],
  ])('escapes %j so it shows as written', (input, expected) => {
    expect(escapeHtml(input)).toBe(expected);
  });

  it('escapes table cells given through code() and details bodies', () => {
    expect(table(['a'], [[code('<b>x</b>')]])).toContain('<td><code>&lt;b&gt;x&lt;/b&gt;</code></td>');
    expect(details('logs <1>', 'line <img src=x>\n')).toBe('<details><summary>logs &lt;1&gt;</summary>\n\n<pre>line &lt;img src=x&gt;\n</pre>\n\n</details>\n');
  });

  it('cuts text on a line boundary under a byte budget and says how much was left out', () => {
    const text = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    const cut = truncateBytes(text, 40);
    expect(Buffer.byteLength(cut)).toBeLessThan(100);
    expect(cut.split('\n').slice(0, -1)).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
    expect(cut.split('\n').at(-1)).toBe('… 95 more lines not shown (summary size limit)');
    expect(truncateBytes('short', 40)).toBe('short');
  });
});
