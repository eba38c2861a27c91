/**
 * A `bodywork.yaml` as a document to read (load-yaml.ts reads Bodywork's sections from it): nodes resolved, typed
 * values read with one problem per mistake at the node's line and column, and values described for "got ...".
 */
import { isAlias, isMap, isScalar, isSeq, type LineCounter, type Node, type Document } from 'yaml';
import { describeNumberRule, type NumberRule, type ProblemList, satisfiesNumberRule } from './collect.js';
import { quoteValue } from './quote.js';
import type { SourceRef } from './spec.js';
import { nearest } from './suggest.js';

/** A mapping's entries by key, keeping the key node for positions. */
export type Entries = Map<string, { key: Node; value: Node | null }>;

export class YamlFile {
  constructor(
    readonly file: string,
    private readonly lines: LineCounter,
    private readonly doc: Document.Parsed,
    readonly problems: ProblemList,
  ) {}

  at(node: Node | null | undefined, fallback?: SourceRef): SourceRef {
    // A key written without a value has an empty null scalar after the colon; point at the key instead.
    const blank = isScalar(node) && node.value === null && !node.source;
    const offset = blank ? undefined : node?.range?.[0];
    if (offset === undefined) return fallback ?? { file: this.file };
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, column: col };
  }

  /** Follows an alias (`*anchor`) to the node it names. */
  resolve(node: unknown): Node | null {
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return (node as Node | null | undefined) ?? null;
  }

  error(at: SourceRef, message: string): void {
    this.problems.error(at, message);
  }

  /** The entries of a mapping, or `undefined` (reported) when `node` is not one. */
  mapping(node: Node | null, dotted: string, where: SourceRef): Entries | undefined {
    if (!isMap(node)) {
      this.error(this.at(node, where), `${dotted} must be a mapping, got ${describe(node)}`);
      return undefined;
    }
    const entries: Entries = new Map();
    for (const pair of node.items) {
      const key = this.resolve(pair.key);
      if (!isScalar(key) || key.value === null || typeof key.value === 'object') {
        this.error(this.at(key, where), `${dotted} keys must be plain names, got ${describe(key)}`);
        continue;
      }
      // Duplicate keys are already reported by the parser (uniqueKeys).
      const name = String(key.value);
      if (!entries.has(name)) entries.set(name, { key, value: this.resolve(pair.value) });
    }
    return entries;
  }

  /** Unknown keys are warnings (Bodywork ignored them), with the nearest known key. */
  warnUnknown(entries: Entries, known: readonly string[], dotted: string): void {
    for (const [name, { key }] of entries) {
      if (known.includes(name)) continue;
      const close = nearest(name, known);
      const where = dotted === '' ? '' : ` in ${dotted}`;
      this.problems.warning(
        this.at(key),
        close !== undefined ? `unknown key ${name}${where}; did you mean ${close}?` : `unknown key ${name}${where} is ignored (known keys: ${known.join(', ')})`,
      );
    }
  }

  /** A required (or optional) entry; reports `missing key a.b` at the parent's key. */
  entry(entries: Entries, key: string, dotted: string, where: SourceRef, required = true): { key: Node; value: Node | null } | undefined {
    const found = entries.get(key);
    if (!found && required) this.error(where, `missing key ${join(dotted, key)}`);
    return found;
  }

  string(entries: Entries, key: string, dotted: string, where: SourceRef, required = true): { value: string; at: SourceRef } | undefined {
    const found = this.entry(entries, key, dotted, where, required);
    if (!found) return undefined;
    const at = this.at(found.value, this.at(found.key));
    if (!isScalar(found.value) || typeof found.value.value !== 'string') {
      this.error(at, `${join(dotted, key)} must be a string, got ${describe(found.value, 'string')}`);
      return undefined;
    }
    return { value: found.value.value, at };
  }

  number(entries: Entries, key: string, dotted: string, where: SourceRef, rule: NumberRule): number {
    const found = this.entry(entries, key, dotted, where);
    if (!found) return Number.NaN;
    const value = isScalar(found.value) ? found.value.value : undefined;
    if (typeof value !== 'number' || !satisfiesNumberRule(rule, value)) {
      this.error(this.at(found.value, this.at(found.key)), `${join(dotted, key)} must be ${describeNumberRule(rule)}, got ${describe(found.value, 'number')}`);
      return Number.NaN;
    }
    return value;
  }

  boolean(entries: Entries, key: string, dotted: string, where: SourceRef, required = true): boolean | undefined {
    const found = this.entry(entries, key, dotted, where, required);
    if (!found) return undefined;
    const value = isScalar(found.value) ? found.value.value : undefined;
    if (typeof value !== 'boolean') {
      this.error(this.at(found.value, this.at(found.key)), `${join(dotted, key)} must be true or false, got ${describe(found.value, 'boolean')}`);
      return undefined;
    }
    return value;
  }

  /** An optional list of strings (`args`, `requirements`); each element is checked. */
  stringList(entries: Entries, key: string, dotted: string, where: SourceRef): string[] {
    const found = this.entry(entries, key, dotted, where, false);
    if (!found || isEmpty(found.value)) return [];
    const list = found.value;
    if (!isSeq(list)) {
      this.error(this.at(list), `${join(dotted, key)} must be a list of strings, got ${describe(list)}`);
      return [];
    }
    const values: string[] = [];
    list.items.forEach((raw, index) => {
      const item = this.resolve(raw);
      if (isScalar(item) && typeof item.value === 'string') values.push(item.value);
      else this.error(this.at(item, this.at(list)), `${join(dotted, key)}[${index}] must be a string, got ${describe(item, 'string')}`);
    });
    return values;
  }
}

function join(dotted: string, key: string): string {
  return dotted === '' ? key : `${dotted}.${key}`;
}

/** The kind of value a key expects, so `describe` can say when the type is the mistake. */
export type Expected = 'string' | 'number' | 'boolean' | 'other';

const NUMBER_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** What a node is, for "got ...": values quoted, plus a hint when quoting (or not quoting) is the mistake. */
export function describe(node: Node | null | undefined, expected: Expected = 'other'): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (!isScalar(node)) return 'an unsupported value';
  const value = node.value;
  if (value === null) return 'nothing';
  if (typeof value === 'string') {
    const looksNumeric = NUMBER_TEXT.test(value.trim());
    const looksBoolean = /^(true|false)$/i.test(value.trim());
    if ((expected === 'number' && looksNumeric) || (expected === 'boolean' && looksBoolean)) return `${quoteValue(value)} (a string; remove the quotes)`;
    return quoteValue(value);
  }
  const text = quoteValue(node.source ?? String(value));
  if (expected === 'string' && (typeof value === 'number' || typeof value === 'boolean')) return `${text} (a ${typeof value}; quote it to make it a string)`;
  if (expected === 'boolean' && typeof value === 'number') return `${text} (a number)`;
  if (expected === 'number' && typeof value === 'boolean') return `${text} (a boolean)`;
  return text;
}

/** True for a key written without a value (`secrets:`), which YAML reads as null. */
export function isEmpty(node: Node | null): boolean {
  return node === null || (isScalar(node) && node.value === null);
}
