/**
 * A small INI tokenizer that follows Python's `configparser` (which Bodywork used) and keeps
 * the line of every section and key.
 *
 * Why not the npm `ini` package: it drops line numbers (it splits on `/[\r\n]+/`, so blank lines
 * collapse and positions cannot be recovered), silently cuts unquoted values at `#` or `;`, turns a
 * line without `=` into `key = true`, and lets a duplicate key overwrite the earlier one. Each of
 * those hides a mistake we want to report at its line, so we tokenize ourselves.
 *
 * configparser rules kept here (defaults, strict mode):
 * - `[section]` headers; section names are case-sensitive, keys are case-insensitive (lower-cased);
 * - `key = value` or `key: value`, split at the first `=` or `:`; key and value are trimmed;
 * - full-line comments start with `#` or `;` (after optional indentation); there are no inline comments;
 * - a line indented deeper than its key line continues the value (joined with a newline);
 * - a duplicate section or a duplicate key within a section is an error;
 * - a key before any section header, and a line that is neither header, key, comment nor blank, are errors.
 * - `${section:key}` and `${key}` (same section, else `[DEFAULT]`) are interpolated as `ExtendedInterpolation` does,
 *   recursively, with `$$` for a literal `$`; a bad reference, an unknown section or key, and a loop are problems at
 *   the line of the value that holds them (`interpolate`).
 * Not kept: `[DEFAULT]`'s values as defaults for every section's keys.
 */

import { quoteValue } from './quote.js';

export interface IniEntry {
  /** The key as written (trimmed), for messages. */
  rawKey: string;
  /** The key lower-cased, as configparser stores it. */
  key: string;
  /** The value, trimmed; continuation lines are joined with `\n`. Quotes are kept. */
  value: string;
  /** 1-based line of the key. */
  line: number;
  /** Set when the value's interpolation failed (reported): the value is as written, and should not be checked further. */
  unresolved?: true;
}

export interface IniSection {
  name: string;
  /** 1-based line of the `[section]` header. */
  line: number;
  entries: IniEntry[];
}

export interface IniSyntaxProblem {
  line: number;
  message: string;
}

export interface IniDocument {
  sections: IniSection[];
  problems: IniSyntaxProblem[];
}

const SECTION_HEADER = /^\[([^\]]*)\](.*)$/;

/** Tokenizes INI text; never throws, every malformed line becomes a problem at its line. */
export function parseIni(text: string): IniDocument {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  // A key file read as config (a mistaken link, a misnamed file) is reported without quoting any of it.
  const keyLine = lines.findIndex((l) => /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(l));
  if (keyLine >= 0) return { sections: [], problems: [{ line: keyLine + 1, message: 'this file holds a private key, not INI text; none of it is quoted here' }] };
  const reader = new IniReader();
  lines.forEach((raw, index) => reader.read(raw, index + 1));
  return reader.finish(lines.length);
}

/** parseIni's state between lines: the section being filled, the value a deeper line continues, what was malformed. */
class IniReader {
  readonly sections: IniSection[] = [];
  readonly problems: IniSyntaxProblem[] = [];
  private current: IniSection | undefined;
  /** The entry that an indented line would continue, and the indentation of its key line. */
  private open: { entry: IniEntry; indent: number; pending: string[] } | undefined;
  /** After a malformed header, its keys are skipped: the header itself was reported. */
  private skipping = false;
  /** Lines that are not INI are quoted only as short excerpts, and only the first few: the file may not be INI at all. */
  private malformed = 0;

  read(raw: string, line: number): void {
    const trimmed = raw.trim();
    const indent = raw.length - raw.trimStart().length;

    if (trimmed.startsWith('#') || trimmed.startsWith(';')) return; // full-line comment
    if (trimmed === '') {
      // configparser keeps empty lines inside a multi-line value if more indented lines follow.
      if (this.open) this.open.pending.push('');
      return;
    }
    if (this.open && indent > this.open.indent) {
      this.open.entry.value = [this.open.entry.value, ...this.open.pending, trimmed].join('\n').replace(/^\n+/, '');
      this.open.pending = [];
      return;
    }
    this.open = undefined;

    const header = SECTION_HEADER.exec(trimmed);
    if (header) this.header(line, trimmed, header[1].trim(), header[2].trim());
    else if (trimmed.startsWith('[')) this.badHeader(line, `malformed section header: expected "[name]", got ${excerpt(trimmed)}`);
    else this.keyValue(line, trimmed, indent);
  }

  finish(lineCount: number): IniDocument {
    if (this.malformed > MAX_MALFORMED_SHOWN) {
      this.problems.push({ line: lineCount, message: `${this.malformed - MAX_MALFORMED_SHOWN} more malformed lines not shown; is this an INI file?` });
    }
    this.problems.push(...interpolate(this.sections));
    return { sections: this.sections, problems: this.problems };
  }

  private header(line: number, trimmed: string, name: string, rest: string): void {
    if (rest !== '') return this.badHeader(line, `malformed section header: expected "[name]" alone on the line, got ${excerpt(trimmed)}`);
    if (name === '') return this.badHeader(line, `malformed section header: the section name is empty, got ${excerpt(trimmed)}`);
    this.skipping = false;
    const earlier = this.sections.find((s) => s.name === name);
    if (earlier) {
      this.problems.push({ line, message: `duplicate section [${name}]; it was already defined at line ${earlier.line}` });
      this.current = earlier; // keep collecting keys so they are still checked (and duplicates reported)
      return;
    }
    this.current = { name, line, entries: [] };
    this.sections.push(this.current);
  }

  private badHeader(line: number, message: string): void {
    this.badLine(line, message);
    this.current = undefined;
    this.skipping = true;
  }

  private keyValue(line: number, trimmed: string, indent: number): void {
    const delimiter = trimmed.search(/[=:]/);
    if (delimiter === -1) {
      return this.badLine(line, `malformed line: expected "KEY = value", "[section]" or a comment starting with # or ;, got ${excerpt(trimmed)}`);
    }
    const rawKey = trimmed.slice(0, delimiter).trim();
    if (rawKey === '') return this.badLine(line, `malformed line: the key before ${quoteValue(trimmed[delimiter] ?? '')} is empty, got ${excerpt(trimmed)}`);
    if (!this.current) {
      if (!this.skipping) this.problems.push({ line, message: `key ${rawKey} appears before any [section] header; put it under a section such as [default]` });
      return;
    }
    const entry: IniEntry = { rawKey, key: rawKey.toLowerCase(), value: trimmed.slice(delimiter + 1).trim(), line };
    const earlier = this.current.entries.find((e) => e.key === entry.key);
    if (earlier) {
      this.problems.push({ line, message: `duplicate key ${rawKey} in [${this.current.name}]; it was already set at line ${earlier.line}` });
      return;
    }
    this.current.entries.push(entry);
    this.open = { entry, indent, pending: [] };
  }

  private badLine(line: number, message: string): void {
    this.malformed++;
    if (this.malformed <= MAX_MALFORMED_SHOWN) this.problems.push({ line, message });
  }
}

/** A line that is not INI, quoted short. */
function excerpt(line: string): string {
  return quoteValue(line, 30);
}

/** configparser's MAX_INTERPOLATION_DEPTH: references nested deeper are an error. */
const MAX_INTERPOLATION_DEPTH = 10;

type Resolved = { value: string } | { failed: true };

/**
 * Resolves `${section:key}` and `${key}` references in every value, in place, as configparser's ExtendedInterpolation
 * reads them (Bodywork read every value that way): the referenced value, itself interpolated; `$$` is `$`. A value
 * whose reference cannot be resolved keeps its text, with a problem at its line; a value that only depends on one
 * that failed is left without a second report.
 */
export function interpolate(sections: IniSection[]): IniSyntaxProblem[] {
  const problems: IniSyntaxProblem[] = [];
  const done = new Map<IniEntry, Resolved>();
  const find = (section: string, key: string) => sections.find((s) => s.name === section)?.entries.find((e) => e.key === key.toLowerCase());

  const resolve = (section: IniSection, entry: IniEntry, chain: { section: string; entry: IniEntry }[]): Resolved => {
    const known = done.get(entry);
    if (known !== undefined) return known;
    const fail = (message: string): Resolved => {
      problems.push({ line: entry.line, message });
      const failed: Resolved = { failed: true };
      done.set(entry, failed);
      return failed;
    };
    const here = [...chain, { section: section.name, entry }];
    let out = '';
    const text = entry.value;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c !== '$') {
        out += c;
        continue;
      }
      const next = text[i + 1];
      if (next === '$') {
        out += '$';
        i++;
        continue;
      }
      const end = next === '{' ? text.indexOf('}', i + 2) : -1;
      if (end < 0) {
        return fail(`${entry.rawKey}: "$" must start a reference \${section:key} or \${key}, or be written "$$" for a literal "$" (configparser's interpolation), got ${quoteValue(text, 40)}`);
      }
      const reference = text.slice(i, end + 1);
      const path = text.slice(i + 2, end).split(':');
      if (path.length > 2 || path.some((p) => p.trim() === '')) {
        return fail(`${entry.rawKey}: bad reference ${quoteValue(reference)}; expected \${section:key} or \${key}`);
      }
      const [targetSection, key] = path.length === 2 ? [path[0], path[1]] : [find(section.name, path[0]) || !sections.some((s) => s.name === 'DEFAULT') ? section.name : 'DEFAULT', path[0]];
      const owner = sections.find((s) => s.name === targetSection);
      const target = owner?.entries.find((e) => e.key === key.toLowerCase());
      if (owner === undefined) return fail(`${entry.rawKey}: ${quoteValue(reference)} refers to section [${targetSection}], which this file does not have`);
      if (target === undefined) return fail(`${entry.rawKey}: ${quoteValue(reference)} refers to key ${key} of [${targetSection}], which is not set`);
      const loop = here.findIndex((c) => c.entry === target);
      if (loop >= 0) {
        const names = [...here.slice(loop), { section: targetSection, entry: target }].map((c) => `[${c.section}] ${c.entry.rawKey}`);
        return fail(`${entry.rawKey}: ${quoteValue(reference)} refers back to itself (${names.join(' -> ')})`);
      }
      if (here.length > MAX_INTERPOLATION_DEPTH) {
        return fail(`${entry.rawKey}: references nested more than ${MAX_INTERPOLATION_DEPTH} deep (configparser's limit), at ${quoteValue(reference)}`);
      }
      const resolved = resolve(owner, target, here);
      if ('failed' in resolved) {
        done.set(entry, resolved);
        return resolved;
      }
      out += resolved.value;
      i = end;
    }
    const ok = { value: out };
    done.set(entry, ok);
    return ok;
  };

  for (const section of sections) {
    for (const entry of section.entries) resolve(section, entry, []);
  }
  // Only now: a value is read raw by every reference to it, and written resolved once all are resolved.
  for (const [entry, resolved] of done) {
    if ('value' in resolved) entry.value = resolved.value;
    else entry.unresolved = true;
  }
  return problems;
}

/** Malformed lines reported one by one; past this many, only counted. */
const MAX_MALFORMED_SHOWN = 3;

/** Strips one pair of matching surrounding quotes (`"x"` or `'x'`), as the tutorial's quoted values need. */
export function unquote(value: string): string {
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) return value.slice(1, -1);
  return value;
}
