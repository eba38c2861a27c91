/**
 * Reading and checking the overrides file (overrides.ts says what it is). Its own module, imported only when a project
 * has the file: the official schema it checks against is client-node's generated models (k8s-schema.ts), 390 KB that
 * every command loading a project (`--version` included) compiled before.
 */
import { LineCounter, parseDocument, isScalar, type Node } from 'yaml';
import { listSchema } from '../kube/strategic-merge.js';
import { isExtendedResource, parseQuantity } from '../kube/quantity.js';
import { refusedField, refusedItem, refusedKey, type OverrideScope } from '../plan/override-contract.js';
import { isLabelValue, isQualifiedName } from '../kube/names.js';
import type { ProblemList } from './collect.js';
import { readProjectText } from './files.js';
import { childPath, type Json, SchemaChecker, type SchemaHooks, YamlSource } from './k8s-schema.js';
import { quoteValue } from './quote.js';
import type { PodOverride, PodOverrides, StageSpec } from './spec.js';
import { nearest } from './suggest.js';

const TOP_KEYS = ['defaults', 'stages'];
const OVERRIDE_KEYS = ['pod', 'container'];

/** The schema checks and the contract of one scope (the pod, or the stage's container). */
function hooksFor(scope: OverrideScope): SchemaHooks {
  // The strategic-merge path of a field below the scope, as the pod template's (listSchema reads field names only).
  const smpPath = (fields: string[]) => ['spec', 'template', 'spec', ...(scope === 'container' ? ['containers'] : []), ...fields];
  return {
    field: (fields) => {
      if (scope === 'pod' && fields[0] === 'metadata' && fields.length === 2 && fields[1] !== 'labels' && fields[1] !== 'annotations') {
        return 'a pod override sets only the labels and annotations of the pod\'s metadata (the engine names the pods)';
      }
      return refusedField(scope, fields.join('.'));
    },
    key: (fields, key) => refusedKey(scope, fields.join('.'), key),
    item: (fields, item) => refusedItem(scope, fields.join('.'), item),
    mergeKeys: (fields) => {
      const schema = listSchema(smpPath(fields));
      return schema.type === 'map' ? [schema.keys[0]] : undefined;
    },
  };
}

/** Reads and checks overrides file `file` of the project in `root` (see loadOverrides). */
export async function readOverridesFile(root: string, file: string, stages: Record<string, StageSpec> | undefined, problems: ProblemList): Promise<PodOverrides | undefined> {
  const read = await readProjectText(root, file);
  if (read.text === undefined) {
    problems.error({ file }, read.problem);
    return undefined;
  }
  const lines = new LineCounter();
  const doc = parseDocument(read.text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  for (const e of doc.errors) {
    const { line, col } = lines.linePos(e.pos[0]);
    problems.error({ file, line, column: col }, e.code === 'DUPLICATE_KEY' ? 'duplicate key; a key may appear only once in a mapping' : `YAML syntax error: ${e.message}`);
  }
  if (doc.errors.length > 0) return undefined;
  const src = new YamlSource(file, lines, doc, problems);
  const before = problems.items.length;
  const top = doc.contents;
  if (top === null || (isScalar(top) && top.value === null)) return { file, stages: {} };
  const entries = src.entries(src.resolve(top), 'the overrides file', 'a mapping with the keys defaults and stages');
  if (entries === undefined) return undefined;

  const result: PodOverrides = { file, stages: {} };
  for (const { name, key, value } of entries) {
    if (name === 'defaults') {
      const o = readOverride(src, 'defaults', key, value);
      if (o !== undefined) result.defaults = o;
    } else if (name === 'stages') {
      for (const stage of src.entries(value, 'stages', 'a mapping of stage names to overrides') ?? []) {
        if (stages !== undefined && !(stage.name in stages)) {
          const close = nearest(stage.name, Object.keys(stages));
          src.error(stage.key, `stages names ${quoteValue(stage.name)}, which is not a stage of the project${close !== undefined ? `; did you mean ${quoteValue(close)}?` : ` (its stages: ${Object.keys(stages).join(', ')})`}`);
          continue;
        }
        const o = readOverride(src, `stages.${stage.name}`, stage.key, stage.value);
        if (o !== undefined) result.stages[stage.name] = o;
      }
    } else {
      const close = nearest(name, TOP_KEYS);
      src.error(key, `unknown key ${name}${close !== undefined ? `; did you mean ${close}?` : ` (the file has defaults and stages)`}`);
    }
  }
  if (stages !== undefined) {
    checkLimits(src, result, stages);
    checkMounts(src, result, stages);
    checkSecretEnv(src, result, stages);
  }
  checkTwoSources(src, result);
  return problems.items.slice(before).some((p) => p.severity === 'error') ? undefined : result;
}

/** `defaults` or `stages.<name>`: `pod` and `container`, checked (problems recorded; the caller drops the file on any). */
function readOverride(src: YamlSource, dotted: string, keyNode: Node, node: Node | null): PodOverride | undefined {
  const override: PodOverride = { source: src.at(keyNode) };
  if (node === null || (isScalar(node) && node.value === null)) return override;
  for (const { name, key, value } of src.entries(node, dotted, 'a mapping with the keys pod and container') ?? []) {
    const here = `${dotted}.${name}`;
    if (name !== 'pod' && name !== 'container') {
      const close = nearest(name, OVERRIDE_KEYS);
      src.error(key, `unknown key ${here}${close !== undefined ? `; did you mean ${dotted}.${close}?` : ` (an override has pod and container)`}`);
      continue;
    }
    if (value === null || (isScalar(value) && value.value === null)) continue;
    const checked = new SchemaChecker(src, hooksFor(name)).object(value, name === 'pod' ? 'PodTemplateOverride' : 'V1Container', here);
    if (checked === undefined) continue;
    if (name === 'pod') checkMetadata(src, here, checked);
    else checkExtendedRequests(src, here, checked);
    override[name] = checked;
  }
  return override;
}

/** Label keys and values, annotation keys: what the API server would refuse. */
function checkMetadata(src: YamlSource, dotted: string, pod: { [key: string]: Json }): void {
  const meta = pod.metadata as { labels?: Record<string, string>; annotations?: Record<string, string> } | undefined;
  const fail = (at: string, message: string) => src.problems.error(src.positions.get(at) ?? { file: src.file }, message);
  for (const [k, v] of Object.entries(meta?.labels ?? {})) {
    const at = childPath(`${dotted}.metadata.labels`, k);
    if (!isQualifiedName(k)) fail(at, `${at}: ${quoteValue(k)} is not a valid label key: [prefix/]name, the name at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit`);
    else if (!isLabelValue(v)) fail(at, `${at}: ${quoteValue(v)} is not a valid label value: at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit`);
  }
  for (const k of Object.keys(meta?.annotations ?? {})) {
    const at = childPath(`${dotted}.metadata.annotations`, k);
    if (!isQualifiedName(k)) fail(at, `${at}: ${quoteValue(k)} is not a valid annotation key: [prefix/]name, the name at most 63 letters, digits, "-", "_" and "."`);
  }
}

/** Extended resources cannot be overcommitted: a request needs the same limit (the API server's rule). */
function checkExtendedRequests(src: YamlSource, dotted: string, container: { [key: string]: Json }): void {
  const resources = container.resources as { limits?: Record<string, string>; requests?: Record<string, string> } | undefined;
  for (const [name, q] of Object.entries(resources?.requests ?? {})) {
    if (!isExtendedResource(name)) continue;
    const limit = resources?.limits?.[name];
    if (limit === undefined || parseQuantity(limit) !== parseQuantity(q)) {
      const at = childPath(`${dotted}.resources.requests`, name);
      src.problems.error(src.positions.get(at) ?? { file: src.file }, `${at} must equal the limit of ${name}: extended resources cannot be overcommitted (set the limit alone; the request follows it)`);
    }
  }
}

/** A cpu or memory limit below the stage's request (cpu_request, memory_request_mb) would be refused by the API server. */
function checkLimits(src: YamlSource, overrides: PodOverrides, stages: Record<string, StageSpec>): void {
  const limitsOf = (o: PodOverride | undefined) => (o?.container?.resources as { limits?: Record<string, string> } | undefined)?.limits ?? {};
  const reported = new Set<string>();
  for (const stage of Object.values(stages)) {
    const own = limitsOf(overrides.stages[stage.name]);
    const defaults = limitsOf(overrides.defaults);
    const checks: [string, number, number, string][] = [
      ['cpu', 3, Math.round(stage.cpuRequest * 1000), `cpu_request (${stage.cpuRequest})`],
      ['memory', 0, stage.memoryRequestMb * 1_000_000, `memory_request_mb (${stage.memoryRequestMb})`],
    ];
    for (const [resource, scale, request, setting] of checks) {
      const fromStage = own[resource] !== undefined;
      const limit = own[resource] ?? defaults[resource];
      if (limit === undefined || !Number.isFinite(request) || parseQuantity(limit, scale) >= request) continue;
      const at = childPath(`${fromStage ? `stages.${stage.name}` : 'defaults'}.container.resources.limits`, resource);
      if (reported.has(`${at} ${stage.name}`)) continue;
      reported.add(`${at} ${stage.name}`);
      src.problems.error(
        src.positions.get(at) ?? { file: src.file },
        `${at} (${limit}) is below stage ${quoteValue(stage.name)}'s ${setting}: Kubernetes refuses a limit below the request; raise the limit or lower the request`,
      );
    }
  }
}

/** Every volumeMount of a stage's container must name a volume of its pod (the code volumes cannot be mounted anyway). */
function checkMounts(src: YamlSource, overrides: PodOverrides, stages: Record<string, StageSpec>): void {
  type Named = { name?: string };
  const blocks = (stage: string): [string, PodOverride | undefined][] => [
    ['defaults', overrides.defaults],
    [`stages.${stage}`, overrides.stages[stage]],
  ];
  const reported = new Set<string>();
  for (const stage of Object.keys(stages)) {
    const volumes = new Set(blocks(stage).flatMap(([, o]) => ((o?.pod?.volumes ?? []) as Named[]).map((v) => v.name)));
    for (const [dotted, o] of blocks(stage)) {
      ((o?.container?.volumeMounts ?? []) as Named[]).forEach((m, i) => {
        const at = `${dotted}.container.volumeMounts[${i}].name`;
        if (m.name === undefined || volumes.has(m.name) || reported.has(at)) return;
        reported.add(at);
        src.problems.error(
          src.positions.get(at) ?? { file: src.file },
          `${at}: stage ${quoteValue(stage)}'s pod has no volume ${quoteValue(m.name)}; add it to defaults.pod.volumes or stages.${stage}.pod.volumes`,
        );
      });
    }
  }
}

/**
 * An env var the stage's secrets config sets (`valueFrom.secretKeyRef`) cannot be overridden: merged by name, the two
 * would make one variable with two sources, which the API server refuses.
 */
function checkSecretEnv(src: YamlSource, overrides: PodOverrides, stages: Record<string, StageSpec>): void {
  const reported = new Set<string>();
  for (const stage of Object.values(stages)) {
    const fromSecrets = new Set(stage.secrets.map((s) => s.env));
    for (const [dotted, o] of [['defaults', overrides.defaults], [`stages.${stage.name}`, overrides.stages[stage.name]]] as const) {
      ((o?.container?.env ?? []) as { name?: string }[]).forEach((e, i) => {
        const at = `${dotted}.container.env[${i}].name`;
        if (e.name === undefined || !fromSecrets.has(e.name) || reported.has(at)) return;
        reported.add(at);
        src.problems.error(
          src.positions.get(at) ?? { file: src.file },
          `${at}: ${e.name} is stage ${quoteValue(stage.name)}'s secret (its secrets config reads it from a Secret); the override cannot set it too`,
        );
      });
    }
  }
}

/**
 * A volume or env var in both the defaults and a stage's entry is merged by name, field by field (strategic merge);
 * with different sources (`persistentVolumeClaim` and `emptyDir`, `value` and `valueFrom`) it would have two, which
 * the API server refuses. Reported at the stage's item.
 */
function checkTwoSources(src: YamlSource, overrides: PodOverrides): void {
  const lists = [
    { scope: 'pod', field: 'volumes', what: 'volume', except: ['name'] },
    { scope: 'container', field: 'env', what: 'environment variable', except: ['name'] },
  ] as const;
  for (const [stage, own] of Object.entries(overrides.stages)) {
    for (const { scope, field, what, except } of lists) {
      const items = (o: PodOverride | undefined) => ((o?.[scope]?.[field] ?? []) as Record<string, unknown>[]);
      items(own).forEach((item, i) => {
        const base = items(overrides.defaults).find((d) => d.name === item.name);
        if (base === undefined) return;
        const sources = (x: Record<string, unknown>) => Object.keys(x).filter((k) => !(except as readonly string[]).includes(k) && (field !== 'env' || k === 'value' || k === 'valueFrom'));
        const [a, b] = [sources(base), sources(item)];
        if (a.length === 0 || b.length === 0 || a.every((k) => b.includes(k))) return;
        const at = `stages.${stage}.${scope}.${field}[${i}]`;
        src.problems.error(
          src.positions.get(`${at}.name`) ?? { file: src.file },
          `${at}: the ${what} ${quoteValue(String(item.name))} is also in defaults.${scope}.${field} with ${a.join(', ')}; merged by name it would have both ${a.join(', ')} and ${b.join(', ')}: give it another name, or the same kind of source`,
        );
      });
    }
  }
}
