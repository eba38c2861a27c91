import { describe, expect, it } from 'vitest';

import { parseIni, unquote } from '../../../src/engine/config/ini.js';

describe('parseIni', () => {
  it('keeps the line of every section and key, lower-cases keys and keeps values raw', () => {
    const doc = parseIni('# comment\n[default]\nPROJECT_NAME = "iris"\n\n; another comment\n[workflow]\nDag: a >> b\n');

    expect(doc.problems).toEqual([]);
    expect(doc.sections).toEqual([
      { name: 'default', line: 2, entries: [{ rawKey: 'PROJECT_NAME', key: 'project_name', value: '"iris"', line: 3 }] },
      { name: 'workflow', line: 6, entries: [{ rawKey: 'Dag', key: 'dag', value: 'a >> b', line: 7 }] },
    ]);
  });

  it('joins indented continuation lines to the value, keeping inner blank lines like configparser', () => {
    const doc = parseIni('[workflow]\nDAG = a\n  >> b\n\n  >> c\nNEXT = 1\n');

    expect(doc.problems).toEqual([]);
    expect(doc.sections[0].entries.map((e) => [e.key, e.value, e.line])).toEqual([
      ['dag', 'a\n>> b\n\n>> c', 2],
      ['next', '1', 6],
    ]);
  });

  it('does not cut values at "#" or ";" (configparser has no inline comments) and splits at the first delimiter', () => {
    const doc = parseIni('[x]\nURL = http://host:80/#top ; not a comment\n');

    expect(doc.sections[0].entries[0]).toMatchObject({ key: 'url', value: 'http://host:80/#top ; not a comment' });
  });

  it('reads CRLF files and ignores a byte-order mark', () => {
    const doc = parseIni('\uFEFF[default]\r\nA=1\r\nB=2\r\n');

    expect(doc.problems).toEqual([]);
    expect(doc.sections[0].entries.map((e) => [e.key, e.line])).toEqual([
      ['a', 2],
      ['b', 3],
    ]);
  });

  it.each([
    ['a key before any section', 'A=1\n[s]\n', [{ line: 1, message: 'key A appears before any [section] header; put it under a section such as [default]' }]],
    ['a line without a delimiter', '[s]\nflag\n', [{ line: 2, message: 'malformed line: expected "KEY = value", "[section]" or a comment starting with # or ;, got "flag"' }]],
    ['an empty key', '[s]\n: 1\n', [{ line: 2, message: 'malformed line: the key before ":" is empty, got ": 1"' }]],
    ['a duplicate key, case-insensitively', '[s]\nA=1\na=2\n', [{ line: 3, message: 'duplicate key a in [s]; it was already set at line 2' }]],
    ['a duplicate section', '[s]\n[t]\n[s]\n', [{ line: 3, message: 'duplicate section [s]; it was already defined at line 1' }]],
    ['an unclosed header (and not its keys)', '[s\nA=1\n', [{ line: 1, message: 'malformed section header: expected "[name]", got "[s"' }]],
    ['text after a header', '[s] x\n', [{ line: 1, message: 'malformed section header: expected "[name]" alone on the line, got "[s] x"' }]],
    ['an empty section name', '[ ]\n', [{ line: 1, message: 'malformed section header: the section name is empty, got "[ ]"' }]],
  ])('reports %s at its line', (_case, text, expected) => {
    expect(parseIni(text).problems).toEqual(expected);
  });

  it('treats section names as case-sensitive, like configparser', () => {
    expect(parseIni('[Default]\n[default]\n').sections.map((s) => s.name)).toEqual(['Default', 'default']);
  });
});

describe('unquote', () => {
  it.each([
    ['"batch"', 'batch'],
    ["'batch'", 'batch'],
    ['"batch\'', '"batch\''],
    ['""', ''],
    ['"', '"'],
    ['batch', 'batch'],
    ['""x""', '"x"'],
  ])('turns %s into %s', (input, expected) => {
    expect(unquote(input)).toBe(expected);
  });
});

describe('parseIni interpolation (configparser ExtendedInterpolation, as Bodywork read values)', () => {
  const values = (text: string) => {
    const doc = parseIni(text);
    return { problems: doc.problems, values: Object.fromEntries(doc.sections.flatMap((s) => s.entries.map((e) => [`${s.name}.${e.key}`, e.value]))) };
  };

  it('resolves ${section:key} and ${key}, recursively, and $$ as a literal $', () => {
    const r = values('[default]\nPROJECT_NAME = iris\nIMAGE = acme/${project_name}:1\n\n[service]\nNAME = ${default:IMAGE}-svc\nPRICE = $$5\n');
    expect(r.problems).toEqual([]);
    expect(r.values).toEqual({ 'default.project_name': 'iris', 'default.image': 'acme/iris:1', 'service.name': 'acme/iris:1-svc', 'service.price': '$5' });
  });

  it('reports an unknown section or key, a bad reference, a lone $ and a loop at the line of the value', () => {
    const r = values('[a]\nX = ${nope:y}\nY = ${missing}\nZ = ${a:b:c}\nP = 5$\nL1 = ${L2}\nL2 = ${a:l1}\nOK = 1\n');
    expect(r.problems).toEqual([
      { line: 2, message: 'X: "${nope:y}" refers to section [nope], which this file does not have' },
      { line: 3, message: 'Y: "${missing}" refers to key missing of [a], which is not set' },
      { line: 4, message: 'Z: bad reference "${a:b:c}"; expected ${section:key} or ${key}' },
      { line: 5, message: 'P: "$" must start a reference ${section:key} or ${key}, or be written "$$" for a literal "$" (configparser\'s interpolation), got "5$"' },
      { line: 7, message: 'L2: "${a:l1}" refers back to itself ([a] L1 -> [a] L2 -> [a] L1)' },
    ]);
    expect(r.values['a.ok']).toBe('1');
  });

  it('reports nothing twice: a value that only depends on a failed one is left as written', () => {
    const r = values('[a]\nBAD = ${gone}\nUSER = ${BAD}/x\n');
    expect(r.problems).toEqual([{ line: 2, message: 'BAD: "${gone}" refers to key gone of [a], which is not set' }]);
    expect(r.values['a.user']).toBe('${BAD}/x');
  });
});
