/**
 * The YAML layout of Bodywork 2.0–3.0: one `bodywork.yaml` at the project root, schema "1.0"
 * (section `project`) or "1.1" (section `pipeline`). Parsed with the `yaml` Document API and a
 * LineCounter, so every problem points at the line and column of the node it is about.
 */
import { quoteValue } from './quote.js';
import { isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type Document } from 'yaml';

import { checkDagStages, parseDag } from './dag.js';
import { checkProjectFile, projectPath, readProjectText } from './files.js';
import { checkStageNames, describeNumberRule, NUMBER_RULES, type NumberRule, ProblemList, satisfiesNumberRule } from './collect.js';
import {
  ENV_NAME_EXPECTED,
  IMAGE_EXPECTED,
  isEnvVarName,
  isImageReference,
  KUBERNETES_NAME_EXPECTED,
  LOG_LEVELS,
  lowerCaseLogLevel,
  SECRET_NAME_EXPECTED,
} from './rules.js';
import { isDns1123Label, isDns1123Subdomain } from '../kube/names.js';
import { hasNameCharacters } from '../plan/names.js';
import type { BatchSpec, ProjectSpec, SecretRef, ServiceSpec, SourceRef, StageSpec } from './spec.js';
import { nearest } from './suggest.js';

/** Schema versions we read, and the name of the project section in each. */
const SECTION_BY_VERSION = { '1.0': 'project', '1.1': 'pipeline' } as const;
type SchemaVersion = keyof typeof SECTION_BY_VERSION;
const SUPPORTED = Object.keys(SECTION_BY_VERSION) as SchemaVersion[];

const PIPELINE_KEYS = ['name', 'docker_image', 'DAG', 'namespace', 'run_on_failure', 'usage_stats', 'secrets_group'];
const STAGE_KEYS = ['executable_module_path', 'args', 'cpu_request', 'memory_request_mb', 'requirements', 'secrets', 'batch', 'service'];
const BATCH_KEYS = ['max_completion_time_seconds', 'retries'];
const SERVICE_KEYS = ['max_startup_time_seconds', 'replicas', 'port', 'ingress'];
const LOGGING_KEYS = ['log_level'];

/** A mapping's entries by key, keeping the key node for positions. */
type Entries = Map<string, { key: Node; value: Node | null }>;

class YamlFile {
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
function isEmpty(node: Node | null): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

/** The key written at `offset` (the parser only gives its first character's position). */
function duplicateKeyAt(text: string, offset: number): string {
  const rest = text.slice(offset).split(/\r?\n/)[0];
  return /^("[^"]*"|'[^']*'|[^:#]+?)\s*:/.exec(rest)?.[1] ?? rest.trim();
}

/** Loads `bodywork.yaml` (or `bodywork.yml`): `file` is its name relative to the project root. */
export async function loadYamlProject(root: string, file: string, problems: ProblemList): Promise<ProjectSpec | undefined> {
  const read = await readProjectText(root, file);
  if (read.text === undefined) {
    problems.error({ file }, read.problem);
    return undefined;
  }
  const text = read.text;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const yaml = new YamlFile(file, lines, doc, problems);

  // Syntax errors at their position. After one, the document is a guess, so we stop there; a
  // duplicate key leaves a usable document (the first value is kept), so checking goes on.
  for (const e of doc.errors) {
    const { line, col } = lines.linePos(e.pos[0]);
    const message =
      e.code === 'DUPLICATE_KEY'
        ? `duplicate key ${duplicateKeyAt(text, e.pos[0])}; a key may appear only once in a mapping`
        : `YAML syntax error: ${e.message}`;
    problems.error({ file, line, column: col }, message);
  }
  if (doc.errors.some((e) => e.code !== 'DUPLICATE_KEY')) return undefined;

  for (const w of doc.warnings) {
    const { line, col } = lines.linePos(w.pos[0]);
    problems.warning({ file, line, column: col }, `YAML: ${w.message}`);
  }
  const contents = yaml.resolve(doc.contents);
  if (isEmpty(contents)) {
    problems.error({ file }, 'the file is empty; expected the sections version, pipeline, stages and logging');
    return undefined;
  }
  if (!isMap(contents)) {
    // Not quoted: a file that is not a mapping may be anything (a key file read by mistake).
    const kind = isScalar(contents) ? `a ${typeof contents.value}` : describe(contents);
    problems.error(yaml.at(contents), `expected a mapping with the sections version, pipeline, stages and logging, got ${kind}`);
    return undefined;
  }
  const top = yaml.mapping(contents, 'the file', { file });
  if (!top) return undefined;

  // version and the project section's name
  const versionEntry = top.get('version');
  let version: SchemaVersion | undefined;
  if (!versionEntry) {
    problems.error({ file }, `missing key version; expected version: "1.1" (or "1.0")`);
  } else {
    const node = versionEntry.value;
    const value = isScalar(node) ? node.value : undefined;
    if (typeof value === 'string' && (SUPPORTED as string[]).includes(value)) {
      version = value as SchemaVersion;
    } else {
      problems.error(
        yaml.at(node, yaml.at(versionEntry.key)),
        `version must be one of the supported schema versions "1.1" (with section pipeline) or "1.0" (with section project), got ${describe(node, 'string')}`,
      );
    }
  }
  const sectionName = version !== undefined ? SECTION_BY_VERSION[version] : top.has('pipeline') || !top.has('project') ? 'pipeline' : 'project';
  const otherSection = sectionName === 'pipeline' ? 'project' : 'pipeline';
  const other = top.get(otherSection);
  if (other && version !== undefined) {
    problems.error(
      yaml.at(other.key),
      `${otherSection} is the section name of schema "${version === '1.1' ? '1.0' : '1.1'}", but version is "${version}"; rename it to ${sectionName} or change the version`,
    );
  }
  yaml.warnUnknown(top, ['version', sectionName, otherSection, 'stages', 'logging'], '');

  for (const section of [sectionName, 'stages', 'logging']) {
    if (!top.has(section) && !(section === sectionName && other)) problems.error({ file }, `missing section ${section}`);
  }

  // stages (read first: the DAG and run_on_failure refer to them)
  const stages: Record<string, StageSpec> = {};
  const stagesEntry = top.get('stages');
  const stageEntries = stagesEntry ? yaml.mapping(stagesEntry.value, 'stages', yaml.at(stagesEntry.key)) : undefined;
  if (stagesEntry && stageEntries?.size === 0) problems.error(yaml.at(stagesEntry.key), 'stages must define at least one stage, got none');
  for (const [name, { key, value }] of stageEntries ?? []) {
    const stage = await loadYamlStage(root, yaml, name, key, value, version);
    if (stage) stages[name] = stage;
  }

  // pipeline / project
  const sectionEntry = top.get(sectionName) ?? other;
  const dotted = sectionEntry === other ? otherSection : sectionName;
  const pipeline = sectionEntry ? yaml.mapping(sectionEntry.value, dotted, yaml.at(sectionEntry.key)) : undefined;
  let name: string | undefined;
  let image: string | undefined;
  let namespace: string | undefined;
  let runOnFailure: string | undefined;
  let dagSource: SourceRef = { file };
  let steps: string[][] = [];
  if (pipeline && sectionEntry) {
    const where = yaml.at(sectionEntry.key);
    yaml.warnUnknown(pipeline, PIPELINE_KEYS, dotted);

    const nameFound = yaml.string(pipeline, 'name', dotted, where);
    if (nameFound && !hasNameCharacters(nameFound.value)) {
      problems.error(nameFound.at, `${dotted}.name must be ${KUBERNETES_NAME_EXPECTED}, got ${quoteValue(nameFound.value)}`);
    } else {
      name = nameFound?.value;
    }

    const imageFound = yaml.string(pipeline, 'docker_image', dotted, where);
    if (imageFound && !isImageReference(imageFound.value)) {
      problems.error(imageFound.at, `${dotted}.docker_image must be ${IMAGE_EXPECTED}, got ${quoteValue(imageFound.value)}`);
    } else {
      image = imageFound?.value;
    }

    const namespaceFound = yaml.string(pipeline, 'namespace', dotted, where, false);
    if (namespaceFound && namespaceFound.value !== '') {
      if (isDns1123Label(namespaceFound.value)) namespace = namespaceFound.value;
      else
        problems.error(
          namespaceFound.at,
          `${dotted}.namespace must be a Kubernetes namespace name (lower-case letters, digits and "-", at most 63 characters), got ${quoteValue(namespaceFound.value)}`,
        );
    }

    const dag = yaml.string(pipeline, 'DAG', dotted, where);
    if (dag) {
      dagSource = dag.at;
      const parsed = parseDag(dag.value);
      steps = parsed.steps;
      for (const message of parsed.problems) problems.error(dag.at, message);
      if (stageEntries) {
        const known = [...stageEntries.keys()];
        for (const message of checkDagStages(steps, (s) => stageEntries.has(s), known, (s, hint) => `DAG names stage ${quoteValue(s)}, which is not defined in stages${hint}`)) {
          problems.error(dag.at, message);
        }
      }
    }

    // run_on_failure: "" (Bodywork's default) means none.
    const failure = yaml.string(pipeline, 'run_on_failure', dotted, where, false);
    if (failure && failure.value !== '') {
      const target = stages[failure.value];
      if (stageEntries && !stageEntries.has(failure.value)) {
        const close = nearest(failure.value, stageEntries.keys());
        problems.error(
          failure.at,
          `${dotted}.run_on_failure must name a batch stage defined in stages, got ${quoteValue(failure.value)}${close !== undefined ? `; did you mean ${quoteValue(close)}?` : ''}`,
        );
      } else if (target && target.type !== 'batch') {
        problems.error(failure.at, `${dotted}.run_on_failure must name a batch stage, got ${quoteValue(failure.value)} (a ${target.type} stage)`);
      } else {
        runOnFailure = failure.value;
      }
    }

    // Accepted for compatibility, but we do not act on them.
    if (pipeline.has('usage_stats')) {
      yaml.boolean(pipeline, 'usage_stats', dotted, where, false);
      problems.warning(yaml.at(pipeline.get('usage_stats')?.key), `${dotted}.usage_stats is accepted but ignored: bodywork-deploy sends no usage statistics`);
    }
    if (pipeline.has('secrets_group')) {
      yaml.string(pipeline, 'secrets_group', dotted, where, false);
      problems.warning(
        yaml.at(pipeline.get('secrets_group')?.key),
        `${dotted}.secrets_group is accepted but ignored: bodywork-deploy does not copy secrets from a group; create the Secrets named in stages.*.secrets in the target namespace`,
      );
    }
  }

  // Stage names, as the objects the plan names after them (schema "1.0" prefixes the project name).
  if (stageEntries) {
    checkStageNames({ format: 'yaml', schemaVersion: version ?? '1.1', name: name ?? '' }, [...stageEntries.keys()], (stage) => yaml.at(stageEntries.get(stage)?.key), problems);
  }

  // logging
  let logLevel: string | undefined;
  const loggingEntry = top.get('logging');
  const logging = loggingEntry ? yaml.mapping(loggingEntry.value, 'logging', yaml.at(loggingEntry.key)) : undefined;
  if (logging && loggingEntry) {
    yaml.warnUnknown(logging, LOGGING_KEYS, 'logging');
    const level = yaml.string(logging, 'log_level', 'logging', yaml.at(loggingEntry.key));
    if (level && !(LOG_LEVELS as readonly string[]).includes(level.value.toUpperCase())) {
      problems.error(level.at, `logging.log_level must be one of ${LOG_LEVELS.join(', ')}, got ${quoteValue(level.value)}`);
    } else {
      if (level && level.value !== level.value.toUpperCase()) problems.warning(level.at, lowerCaseLogLevel('logging.log_level', level.value));
      logLevel = level?.value.toUpperCase();
    }
  }

  if (version === undefined || name === undefined || image === undefined || logLevel === undefined) return undefined;
  const spec: ProjectSpec = {
    format: 'yaml',
    schemaVersion: version,
    root,
    configFile: file,
    name,
    image,
    dag: steps,
    dagSource,
    stages,
    logLevel,
  };
  if (namespace !== undefined) spec.namespace = namespace;
  if (runOnFailure !== undefined) spec.runOnFailure = runOnFailure;
  return spec;
}

/** Loads `stages.<name>`; returns a spec even when parts are wrong (the errors are recorded). */
async function loadYamlStage(root: string, yaml: YamlFile, name: string, keyNode: Node, valueNode: Node | null, version: SchemaVersion | undefined): Promise<StageSpec | undefined> {
  const dotted = `stages.${name}`;
  const where = yaml.at(keyNode);
  const stage = yaml.mapping(valueNode, dotted, where);
  if (!stage) return undefined;
  yaml.warnUnknown(stage, STAGE_KEYS, dotted);

  // executable_module_path: relative to the project root; a .py module (or a .ipynb notebook, as Bodywork 3 allowed).
  let executable = '';
  let problem: Awaited<ReturnType<typeof checkProjectFile>>;
  const module = yaml.string(stage, 'executable_module_path', dotted, where);
  if (module) {
    const relative = projectPath(module.value);
    if (relative === undefined || !/\.(py|ipynb)$/.test(relative)) {
      yaml.error(module.at, `${dotted}.executable_module_path must be a .py (or .ipynb) file inside the project, got ${quoteValue(module.value)}`);
    } else if ((problem = await checkProjectFile(root, relative)) !== undefined) {
      yaml.error(module.at, `${dotted}.executable_module_path must be a .py (or .ipynb) file inside the project, got ${quoteValue(module.value)} (${problem.problem})`);
    } else {
      executable = relative;
    }
  }

  const spec: StageSpec = {
    name,
    type: 'batch',
    executable,
    args: yaml.stringList(stage, 'args', dotted, where),
    cpuRequest: yaml.number(stage, 'cpu_request', dotted, where, NUMBER_RULES.cpuRequest),
    memoryRequestMb: yaml.number(stage, 'memory_request_mb', dotted, where, NUMBER_RULES.memoryRequestMb),
    requirements: yaml.stringList(stage, 'requirements', dotted, where),
    secrets: [],
    source: where,
  };

  // secrets: ENV_VAR: secret-name, used verbatim (Bodywork 2/3 did not change case).
  const secretsEntry = stage.get('secrets');
  if (secretsEntry && !isEmpty(secretsEntry.value)) {
    const secrets = yaml.mapping(secretsEntry.value, `${dotted}.secrets`, yaml.at(secretsEntry.key));
    for (const [env, { key }] of secrets ?? []) {
      const at = yaml.at(key);
      if (!isEnvVarName(env)) yaml.error(at, `${dotted}.secrets key must be ${ENV_NAME_EXPECTED}, got ${quoteValue(env)}`);
      const secret = yaml.string(secrets ?? new Map(), env, `${dotted}.secrets`, at);
      if (secret && !isDns1123Subdomain(secret.value)) yaml.error(secret.at, `${dotted}.secrets.${env} must be ${SECRET_NAME_EXPECTED}, got ${quoteValue(secret.value)}`);
      const ref: SecretRef = { env, secret: secret?.value ?? '', key: env, source: at };
      spec.secrets.push(ref);
    }
  }

  // Exactly one of batch and service.
  const batchEntry = stage.get('batch');
  const serviceEntry = stage.get('service');
  if (batchEntry && serviceEntry) {
    yaml.error(where, `${dotted} must have exactly one of batch or service, got both`);
  } else if (!batchEntry && !serviceEntry) {
    yaml.error(where, `${dotted} must have exactly one of batch or service, got neither`);
  } else if (batchEntry) {
    const batch = yaml.mapping(batchEntry.value, `${dotted}.batch`, yaml.at(batchEntry.key));
    if (batch) {
      const at = yaml.at(batchEntry.key);
      yaml.warnUnknown(batch, BATCH_KEYS, `${dotted}.batch`);
      const batchSpec: BatchSpec = {
        maxCompletionTimeSeconds: yaml.number(batch, 'max_completion_time_seconds', `${dotted}.batch`, at, version === '1.1' ? NUMBER_RULES.scriptSeconds : NUMBER_RULES.seconds),
        retries: yaml.number(batch, 'retries', `${dotted}.batch`, at, NUMBER_RULES.retries),
      };
      spec.batch = batchSpec;
    }
  } else if (serviceEntry) {
    spec.type = 'service';
    const service = yaml.mapping(serviceEntry.value, `${dotted}.service`, yaml.at(serviceEntry.key));
    if (service) {
      const at = yaml.at(serviceEntry.key);
      yaml.warnUnknown(service, SERVICE_KEYS, `${dotted}.service`);
      const serviceSpec: ServiceSpec = {
        maxStartupTimeSeconds: yaml.number(service, 'max_startup_time_seconds', `${dotted}.service`, at, NUMBER_RULES.seconds),
        replicas: yaml.number(service, 'replicas', `${dotted}.service`, at, NUMBER_RULES.replicas),
        port: yaml.number(service, 'port', `${dotted}.service`, at, NUMBER_RULES.port),
        ingress: yaml.boolean(service, 'ingress', `${dotted}.service`, at, false) ?? false,
      };
      spec.service = serviceSpec;
    }
  }
  return spec;
}
