import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { renderTable } from '../../src/cli/cluster.js';
import { colorEnabled, painter, statusStyle } from '../../src/cli/style.js';

describe('colour in the CLI', () => {
  it('only on a terminal, never with NO_COLOR set (an empty NO_COLOR does not count), nor on a dumb one', () => {
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
    expect(colorEnabled({}, {})).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(colorEnabled({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });

  it('paints or passes text through; tables stay aligned with colour codes in them', () => {
    expect(painter(false)('red', 'failed')).toBe('failed');
    expect(painter(true)('red', 'failed')).toBe('\x1b[31mfailed\x1b[39m');
    expect(statusStyle('failed (BackoffLimitExceeded)')).toBe('red');
    expect(statusStyle('succeeded')).toBe('green');
    const rows = [
      ['STAGE', 'RESULT', 'URL'],
      ['a-long-name', 'failed', 'x'],
      ['b', 'succeeded', ''],
    ];
    const p = painter(true);
    const coloured = renderTable(rows, (cell, row, column) => (row > 0 && column === 1 ? p(statusStyle(cell)!, cell) : cell));
    expect(stripVTControlCharacters(coloured)).toBe(renderTable(rows));
    expect(renderTable(rows)).toBe('STAGE        RESULT     URL\na-long-name  failed     x\nb            succeeded\n');
  });
});
