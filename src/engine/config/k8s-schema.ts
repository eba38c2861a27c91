/**
 * Checks YAML against the official Kubernetes schema, at the line of each problem. The schema is the one
 * `@kubernetes/client-node` carries at runtime, generated from upstream's OpenAPI: every model class lists its fields
 * (`V1PodSpec.getAttributeTypeMap()`: the JSON name `baseName`, and a `type` such as `string`, `number` (`int32`,
 * `int64`), `Array<V1Toleration>`, `{ [key: string]: string; }`, `IntOrString`). Unknown fields (with the nearest
 * known one when it is a likely typo), wrong types, values without a value (YAML's null, which a strategic merge reads
 * as "delete") and malformed resource quantities are reported, all of them; what is valid comes back as JSON, without
 * the parts that are not (so later checks see the rest; the caller counts problems to know whether all was valid).
 */
// The generated models alone (what ObjectSerializer knows), not the package index: a namespace import of the index
// would pull client-node's typed request APIs into the bundle.
import * as k8s from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import { isExtendedResource, isQuantity, parseQuantity } from '../kube/quantity.js';
import type { ProblemList } from './collect.js';
import { describe } from './yaml-file.js';
import { quoteValue } from './quote.js';
import { isQualifiedName } from '../kube/names.js';
import type { SourceRef } from './spec.js';
import { nearest } from './suggest.js';

export type Json = string | number | boolean | Json[] | { [key: string]: Json };

interface Attribute {
  name: string;
  baseName: string;
  type: string;
  format?: string;
}

/** Rules beyond the schema, by the path of field names below the checked object (`['resources', 'requests']`). */
export interface SchemaHooks {
  /** Why this field may not be set, if it may not. */
  field?(fields: string[]): string | undefined;
  /** Why this key of a map field may not be set. */
  key?(fields: string[], key: string): string | undefined;
  /** Why this item of a list field may not be set. */
  item?(fields: string[], item: { [key: string]: Json }): string | undefined;
  /** The fields a list's items are merged by (strategic merge), which every item must then have. */
  mergeKeys?(fields: string[]): string[] | undefined;
}

/** A parsed YAML file: positions of its nodes, and the problems found in it. */
export class YamlSource {
  /** Where each checked value is, by its path (`stages.train.container.resources.limits.cpu`). */
  readonly positions = new Map<string, SourceRef>();

  constructor(
    readonly file: string,
    private readonly lines: LineCounter,
    private readonly doc: Document.Parsed,
    readonly problems: ProblemList,
  ) {}

  at(node: Node | null | undefined): SourceRef {
    const offset = node?.range?.[0];
    if (offset === undefined) return { file: this.file };
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, column: col };
  }

  resolve(node: unknown): Node | null {
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return (node as Node | null | undefined) ?? null;
  }

  error(node: Node | null | undefined, message: string): void {
    this.problems.error(this.at(node), message);
  }

  /** The entries of a mapping (key node kept for positions), or undefined (reported) when it is not one. */
  entries(node: Node | null, path: string, what: string): { name: string; key: Node; value: Node | null }[] | undefined {
    if (!isMap(node)) {
      this.error(node, `${path} must be ${what}, got ${describe(node)}`);
      return undefined;
    }
    const out: { name: string; key: Node; value: Node | null }[] = [];
    for (const pair of node.items) {
      const key = this.resolve(pair.key);
      if (!isScalar(key) || key.value === null || typeof key.value === 'object') {
        this.error(key ?? node, `${path} keys must be plain names, got ${describe(key)}`);
        continue;
      }
      out.push({ name: String(key.value), key, value: this.resolve(pair.value) });
    }
    return out;
  }
}

/** `a.b` for field names, `a["nvidia.com/gpu"]` for other keys. */
export function childPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$-]*$/.test(key) ? (path === '' ? key : `${path}.${key}`) : `${path}[${quoteValue(key)}]`;
}

/** `V1PodSpec` → `PodSpec`, for messages. */
function modelName(type: string): string {
  if (type === 'PodTemplateOverride') return 'PodSpec, or the pod\'s metadata';
  return type.replace(/^(CoreV1|V1beta\d|V1alpha\d|V\d)/, '');
}

/**
 * Models of our own files built from the official ones: `PodTemplateOverride` is a PodSpec's fields plus the pod's
 * `metadata` (what a pod override sets).
 */
const LOCAL_MODELS: Record<string, () => Attribute[]> = {
  PodTemplateOverride: () => [{ name: 'metadata', baseName: 'metadata', type: 'V1ObjectMeta' }, ...(attributes('V1PodSpec') ?? [])],
};

function attributes(model: string): Attribute[] | undefined {
  const local = LOCAL_MODELS[model];
  if (local !== undefined) return local();
  const cls = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => Attribute[] } | undefined>)[model];
  return cls?.getAttributeTypeMap?.();
}

/** Map fields whose values are resource quantities (`resources.limits`, `overhead`); string fields that are one. */
const QUANTITY_MAPS = new Set(['limits', 'requests', 'overhead', 'capacity']);
const QUANTITY_STRINGS = new Set(['sizeLimit']);

/** Resource names without a domain: the standard ones. */
const STANDARD_RESOURCES = /^(cpu|memory|ephemeral-storage|storage|hugepages-.+)$/;

const QUANTITY_EXPECTED = 'a Kubernetes quantity such as 500m, 2, 512Mi or 1Gi';

export class SchemaChecker {
  constructor(
    private readonly src: YamlSource,
    private readonly hooks: SchemaHooks = {},
  ) {}

  /** Checks `node` as an object of `model` (`V1PodSpec`) at `path`; `fields` is its path of field names for the hooks. */
  object(node: Node | null, model: string, path: string, fields: string[] = []): { [key: string]: Json } | undefined {
    const attrs = attributes(model);
    if (attrs === undefined) throw new Error(`internal error: no schema for ${model}`);
    const entries = this.src.entries(node, path, `a mapping (a ${modelName(model)})`);
    if (entries === undefined) return undefined;
    const out: { [key: string]: Json } = {};
    for (const { name, key, value } of entries) {
      const here = childPath(path, name);
      this.src.positions.set(here, this.src.at(key));
      if (name.startsWith('$')) {
        this.src.error(key, `${here}: strategic-merge directives ($patch, $retainKeys, ...) are not allowed in overrides; write the fields to set`);
        continue;
      }
      const attr = attrs.find((a) => a.baseName === name);
      if (attr === undefined) {
        const close = nearest(name, attrs.map((a) => a.baseName));
        this.src.error(key, `unknown field ${here}${close !== undefined ? `; did you mean ${close}?` : ` (not a field of ${modelName(model)})`}`);
        continue;
      }
      const sub = [...fields, name];
      const why = this.hooks.field?.(sub);
      if (why !== undefined) {
        this.src.error(key, `${here} cannot be overridden: ${why}`);
        continue;
      }
      const checked = this.value(value, attr, here, sub, key);
      if (checked !== undefined) out[name] = checked;
    }
    return out;
  }

  private value(node: Node | null, attr: Attribute, path: string, fields: string[], keyNode: Node): Json | undefined {
    if (node === null || (isScalar(node) && node.value === null)) {
      this.src.error(keyNode, `${path} has no value; give it one or remove the key (an empty value would delete the field from the pod)`);
      return undefined;
    }
    return this.typed(node, attr.type, attr.format, path, fields, attr.baseName);
  }

  private typed(node: Node, type: string, format: string | undefined, path: string, fields: string[], field: string): Json | undefined {
    const list = /^Array<(.+)>$/.exec(type);
    if (list) return this.list(node, list[1], format, path, fields, field);
    if (/^\{ \[key: string\]: string; \}$/.test(type)) return QUANTITY_MAPS.has(field) ? this.quantities(node, path, fields) : this.stringMap(node, path, fields);
    switch (type) {
      case 'string':
        return QUANTITY_STRINGS.has(field) ? this.quantity(node, path) : this.string(node, path);
      case 'Date':
        return this.string(node, path);
      case 'boolean':
        if (isScalar(node) && typeof node.value === 'boolean') return node.value;
        this.src.error(node, `${path} must be true or false, got ${describe(node, 'boolean')}`);
        return undefined;
      case 'number':
        return this.integer(node, path, format);
      case 'IntOrString':
        if (isScalar(node) && typeof node.value === 'string') return node.value;
        return this.integer(node, path, 'int32', 'a whole number or a string');
      case 'any':
        return node.toJSON() as Json;
      default:
        if (attributes(type) === undefined) throw new Error(`internal error: no schema for ${type} at ${path}`);
        return this.object(node, type, path, fields);
    }
  }

  private list(node: Node, item: string, format: string | undefined, path: string, fields: string[], field: string): Json[] | undefined {
    if (!isSeq(node)) {
      this.src.error(node, `${path} must be a list, got ${describe(node)}`);
      return undefined;
    }
    const keys = this.hooks.mergeKeys?.(fields);
    const out: Json[] = [];
    node.items.forEach((raw, i) => {
      const child = this.src.resolve(raw);
      const here = `${path}[${i}]`;
      if (child === null || (isScalar(child) && child.value === null)) {
        this.src.error(node, `${here} has no value`);
        return;
      }
      const value = this.typed(child, item, format, here, fields, field);
      if (value === undefined) return;
      if (typeof value === 'object' && !Array.isArray(value)) {
        const missing = keys?.find((k) => value[k] === undefined);
        if (missing !== undefined) {
          this.src.error(child, `${here} must have ${missing}: the items of ${field} are merged into the pod by their ${missing}`);
            return;
        }
        const why = this.hooks.item?.(fields, value);
        if (why !== undefined) {
          this.src.error(child, `${here} cannot be overridden: ${why}`);
            return;
        }
      }
      out.push(value);
    });
    return out;
  }

  private string(node: Node, path: string): string | undefined {
    if (isScalar(node) && typeof node.value === 'string') return node.value;
    this.src.error(node, `${path} must be a string, got ${describe(node, 'string')}`);
    return undefined;
  }

  private integer(node: Node, path: string, format: string | undefined, expected = 'a whole number'): number | undefined {
    const v = isScalar(node) ? node.value : undefined;
    const max = format === 'int32' ? 2 ** 31 - 1 : Number.MAX_SAFE_INTEGER;
    if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= max) return v;
    this.src.error(node, `${path} must be ${expected}${format === 'int32' ? ' (32-bit)' : ''}, got ${describe(node, 'number')}`);
    return undefined;
  }

  /**
   * The entries of a map whose keys the hooks may refuse (each refusal reported at its key), with each entry's path;
   * undefined when `node` is not a map.
   */
  private allowedEntries(node: Node, path: string, fields: string[], expected: string): { name: string; key: Node; value: Node | null; here: string }[] | undefined {
    const entries = this.src.entries(node, path, expected);
    if (entries === undefined) return undefined;
    const allowed: { name: string; key: Node; value: Node | null; here: string }[] = [];
    for (const { name, key, value } of entries) {
      const here = childPath(path, name);
      this.src.positions.set(here, this.src.at(key));
      const why = this.hooks.key?.(fields, name);
      if (why !== undefined) this.src.error(key, `${here} cannot be overridden: ${why}`);
      else allowed.push({ name, key, value, here });
    }
    return allowed;
  }

  /** A map of strings (`nodeSelector`, `labels`, `annotations`), its keys checked by the hooks. */
  private stringMap(node: Node, path: string, fields: string[]): { [key: string]: string } | undefined {
    const entries = this.allowedEntries(node, path, fields, 'a mapping of strings');
    if (entries === undefined) return undefined;
    const out: { [key: string]: string } = {};
    for (const { name, key, value, here } of entries) {
      const s = value === null || (isScalar(value) && value.value === null) ? undefined : this.string(value, here);
      if (s === undefined) {
        if (value === null || (isScalar(value) && value.value === null)) this.src.error(key, `${here} has no value; give it one (a string) or remove the key`);
        continue;
      }
      out[name] = s;
    }
    return out;
  }

  /** A map of resource name to quantity (`limits`, `requests`); numbers are accepted as the API accepts them. */
  private quantities(node: Node, path: string, fields: string[]): { [key: string]: string } | undefined {
    const entries = this.allowedEntries(node, path, fields, 'a mapping of resource names to quantities');
    if (entries === undefined) return undefined;
    const out: { [key: string]: string } = {};
    for (const { name, key, value, here } of entries) {
      if (!STANDARD_RESOURCES.test(name) && !(name.includes('/') && isQualifiedName(name))) {
        this.src.error(key, `${here}: ${quoteValue(name)} is not a resource name: expected cpu, memory, ephemeral-storage, hugepages-<size>, or an extended resource with a domain, such as nvidia.com/gpu`);
        continue;
      }
      const q = value === null ? undefined : this.quantity(value, here);
      if (q === undefined) {
        if (value === null) this.src.error(key, `${here} has no value; give it ${QUANTITY_EXPECTED}`);
        continue;
      }
      if (isExtendedResource(name) && parseQuantity(q, 3) % 1000 !== 0) {
        this.src.error(value, `${here} must be a whole number: extended resources such as ${name} are counted in whole units, got ${quoteValue(q)}`);
        continue;
      }
      out[name] = q;
    }
    return out;
  }

  private quantity(node: Node, path: string): string | undefined {
    const v = isScalar(node) ? node.value : undefined;
    const text = typeof v === 'number' && Number.isFinite(v) ? (node as { source?: string }).source ?? String(v) : typeof v === 'string' ? v : undefined;
    if (text === undefined || !isQuantity(text) || text.trim().startsWith('-')) {
      this.src.error(node, `${path} must be ${QUANTITY_EXPECTED}, got ${describe(node)}`);
      return undefined;
    }
    return text.trim();
  }
}
