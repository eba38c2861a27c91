/**
 * The YAML layout of Bodywork 2.0–3.0: one `bodywork.yaml` at the project root, schema "1.0"
 * (section `project`) or "1.1" (section `pipeline`). Parsed with the `yaml` Document API and a
 * LineCounter, so every problem points at the line and column of the node it is about.
 */
import { quoteValue } from './quote.js';
import { isMap, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import { checkDagStages, parseDag } from './dag.js';
import { checkProjectFile, projectPath, readProjectText } from './files.js';
import { checkStageNames, NUMBER_RULES, ProblemList } from './collect.js';
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
import { describe, isEmpty, YamlFile, type Entries } from './yaml-file.js';


/** Schema versions we read, and the name of the project section in each. */
const SECTION_BY_VERSION = { '1.0': 'project', '1.1': 'pipeline' } as const;
type SchemaVersion = keyof typeof SECTION_BY_VERSION;
const SUPPORTED = Object.keys(SECTION_BY_VERSION) as SchemaVersion[];

const PIPELINE_KEYS = ['name', 'docker_image', 'DAG', 'namespace', 'run_on_failure', 'usage_stats', 'secrets_group'];
const STAGE_KEYS = ['executable_module_path', 'args', 'cpu_request', 'memory_request_mb', 'requirements', 'secrets', 'batch', 'service'];
const BATCH_KEYS = ['max_completion_time_seconds', 'retries'];
const SERVICE_KEYS = ['max_startup_time_seconds', 'replicas', 'port', 'ingress'];
const LOGGING_KEYS = ['log_level'];

/** The key written at `offset` (the parser only gives its first character's position). */
function duplicateKeyAt(text: string, offset: number): string {
  const rest = text.slice(offset).split(/\r?\n/)[0];
  return /^("[^"]*"|'[^']*'|[^:#]+?)\s*:/.exec(rest)?.[1] ?? rest.trim();
}

/** Loads `bodywork.yaml` (or `bodywork.yml`): `file` is its name relative to the project root. */
export async function loadYamlProject(root: string, file: string, problems: ProblemList): Promise<ProjectSpec | undefined> {
  const read = await readYamlMapping(root, file, problems);
  if (!read) return undefined;
  const { yaml, top } = read;

  // version and the project section's name
  const version = readVersion(yaml, top);
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
  const fields: PipelineFields = { dagSource: { file }, steps: [] };
  if (pipeline && sectionEntry) readPipeline(yaml, pipeline, dotted, yaml.at(sectionEntry.key), stages, stageEntries, fields);
  const { name, image, namespace, runOnFailure, dagSource, steps } = fields;

  // Stage names, as the objects the plan names after them (schema "1.0" prefixes the project name).
  if (stageEntries) {
    checkStageNames({ format: 'yaml', schemaVersion: version ?? '1.1', name: name ?? '' }, [...stageEntries.keys()], (stage) => yaml.at(stageEntries.get(stage)?.key), problems);
  }

  const logLevel = readLogging(yaml, top);

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

/**
 * Reads and parses `file`: its top-level mapping, or undefined (recorded) when it cannot be read, has a syntax error,
 * or is empty or not a mapping.
 */
async function readYamlMapping(root: string, file: string, problems: ProblemList): Promise<{ yaml: YamlFile; top: Entries } | undefined> {
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
  return top ? { yaml, top } : undefined;
}

/** The schema version, or undefined when it is missing or not one we read (recorded). */
function readVersion(yaml: YamlFile, top: Entries): SchemaVersion | undefined {
  const versionEntry = top.get('version');
  if (!versionEntry) {
    yaml.problems.error({ file: yaml.file }, `missing key version; expected version: "1.1" (or "1.0")`);
  } else {
    const node = versionEntry.value;
    const value = isScalar(node) ? node.value : undefined;
    if (typeof value === 'string' && (SUPPORTED as string[]).includes(value)) {
      return value as SchemaVersion;
    } else {
      yaml.problems.error(
        yaml.at(node, yaml.at(versionEntry.key)),
        `version must be one of the supported schema versions "1.1" (with section pipeline) or "1.0" (with section project), got ${describe(node, 'string')}`,
      );
    }
  }
  return undefined;
}

/** The `logging` section's log level (upper case), or undefined when it is missing or wrong (recorded). */
function readLogging(yaml: YamlFile, top: Entries): string | undefined {
  const loggingEntry = top.get('logging');
  const logging = loggingEntry ? yaml.mapping(loggingEntry.value, 'logging', yaml.at(loggingEntry.key)) : undefined;
  if (logging && loggingEntry) {
    yaml.warnUnknown(logging, LOGGING_KEYS, 'logging');
    const level = yaml.string(logging, 'log_level', 'logging', yaml.at(loggingEntry.key));
    if (level && !(LOG_LEVELS as readonly string[]).includes(level.value.toUpperCase())) {
      yaml.problems.error(level.at, `logging.log_level must be one of ${LOG_LEVELS.join(', ')}, got ${quoteValue(level.value)}`);
    } else {
      if (level && level.value !== level.value.toUpperCase()) yaml.problems.warning(level.at, lowerCaseLogLevel('logging.log_level', level.value));
      return level?.value.toUpperCase();
    }
  }
  return undefined;
}

/** The project section's fields (`pipeline`, or `project` in schema "1.0"), as far as they are right. */
interface PipelineFields {
  name?: string;
  image?: string;
  namespace?: string;
  runOnFailure?: string;
  dagSource: SourceRef;
  steps: string[][];
}

/** Reads the project section into `f`, recording a problem for each wrong field. */
function readPipeline(yaml: YamlFile, pipeline: Entries, dotted: string, where: SourceRef, stages: Record<string, StageSpec>, stageEntries: Entries | undefined, f: PipelineFields): void {
    yaml.warnUnknown(pipeline, PIPELINE_KEYS, dotted);

  const nameFound = yaml.string(pipeline, 'name', dotted, where);
  if (nameFound && !hasNameCharacters(nameFound.value)) {
    yaml.problems.error(nameFound.at, `${dotted}.name must be ${KUBERNETES_NAME_EXPECTED}, got ${quoteValue(nameFound.value)}`);
  } else {
    f.name = nameFound?.value;
  }

  const imageFound = yaml.string(pipeline, 'docker_image', dotted, where);
  if (imageFound && !isImageReference(imageFound.value)) {
    yaml.problems.error(imageFound.at, `${dotted}.docker_image must be ${IMAGE_EXPECTED}, got ${quoteValue(imageFound.value)}`);
  } else {
    f.image = imageFound?.value;
  }

  const namespaceFound = yaml.string(pipeline, 'namespace', dotted, where, false);
  if (namespaceFound && namespaceFound.value !== '') {
    if (isDns1123Label(namespaceFound.value)) f.namespace = namespaceFound.value;
    else
      yaml.problems.error(
        namespaceFound.at,
        `${dotted}.namespace must be a Kubernetes namespace name (lower-case letters, digits and "-", at most 63 characters), got ${quoteValue(namespaceFound.value)}`,
      );
  }

  const dag = yaml.string(pipeline, 'DAG', dotted, where);
  if (dag) {
    f.dagSource = dag.at;
    const parsed = parseDag(dag.value);
    f.steps = parsed.steps;
    for (const message of parsed.problems) yaml.problems.error(dag.at, message);
    if (stageEntries) {
      const known = [...stageEntries.keys()];
      for (const message of checkDagStages(f.steps, (s) => stageEntries.has(s), known, (s, hint) => `DAG names stage ${quoteValue(s)}, which is not defined in stages${hint}`)) {
        yaml.problems.error(dag.at, message);
      }
    }
  }

  // run_on_failure: "" (Bodywork's default) means none.
  const failure = yaml.string(pipeline, 'run_on_failure', dotted, where, false);
  if (failure && failure.value !== '') {
    const target = stages[failure.value];
    if (stageEntries && !stageEntries.has(failure.value)) {
      const close = nearest(failure.value, stageEntries.keys());
      yaml.problems.error(
        failure.at,
        `${dotted}.run_on_failure must name a batch stage defined in stages, got ${quoteValue(failure.value)}${close !== undefined ? `; did you mean ${quoteValue(close)}?` : ''}`,
      );
    } else if (target && target.type !== 'batch') {
      yaml.problems.error(failure.at, `${dotted}.run_on_failure must name a batch stage, got ${quoteValue(failure.value)} (a ${target.type} stage)`);
    } else {
      f.runOnFailure = failure.value;
    }
  }

  // Accepted for compatibility, but we do not act on them.
  if (pipeline.has('usage_stats')) {
    yaml.boolean(pipeline, 'usage_stats', dotted, where, false);
    yaml.problems.warning(yaml.at(pipeline.get('usage_stats')?.key), `${dotted}.usage_stats is accepted but ignored: bodywork-deploy sends no usage statistics`);
  }
  if (pipeline.has('secrets_group')) {
    yaml.string(pipeline, 'secrets_group', dotted, where, false);
    yaml.problems.warning(
      yaml.at(pipeline.get('secrets_group')?.key),
      `${dotted}.secrets_group is accepted but ignored: bodywork-deploy does not copy secrets from a group; create the Secrets named in stages.*.secrets in the target namespace`,
    );
  }
}

/** Loads `stages.<name>`; returns a spec even when parts are wrong (the errors are recorded). */
async function loadYamlStage(root: string, yaml: YamlFile, name: string, keyNode: Node, valueNode: Node | null, version: SchemaVersion | undefined): Promise<StageSpec | undefined> {
  const dotted = `stages.${name}`;
  const where = yaml.at(keyNode);
  const stage = yaml.mapping(valueNode, dotted, where);
  if (!stage) return undefined;
  yaml.warnUnknown(stage, STAGE_KEYS, dotted);

  const spec: StageSpec = {
    name,
    type: 'batch',
    executable: await readExecutableModule(root, yaml, stage, dotted, where),
    args: yaml.stringList(stage, 'args', dotted, where),
    cpuRequest: yaml.number(stage, 'cpu_request', dotted, where, NUMBER_RULES.cpuRequest),
    memoryRequestMb: yaml.number(stage, 'memory_request_mb', dotted, where, NUMBER_RULES.memoryRequestMb),
    requirements: yaml.stringList(stage, 'requirements', dotted, where),
    secrets: [],
    source: where,
  };
  spec.secrets = readStageSecrets(yaml, stage, dotted);
  readStageKind(yaml, stage, dotted, where, version, spec);
  return spec;
}

/** `executable_module_path`: relative to the project root; a .py module (or a .ipynb notebook, as Bodywork 3 allowed). '' when wrong. */
async function readExecutableModule(root: string, yaml: YamlFile, stage: Entries, dotted: string, where: SourceRef): Promise<string> {
  const module = yaml.string(stage, 'executable_module_path', dotted, where);
  if (!module) return '';
  const relative = projectPath(module.value);
  const expected = `${dotted}.executable_module_path must be a .py (or .ipynb) file inside the project, got ${quoteValue(module.value)}`;
  if (relative === undefined || !/\.(py|ipynb)$/.test(relative)) {
    yaml.error(module.at, expected);
    return '';
  }
  const problem = await checkProjectFile(root, relative);
  if (problem !== undefined) {
    yaml.error(module.at, `${expected} (${problem.problem})`);
    return '';
  }
  return relative;
}

/** `secrets: ENV_VAR: secret-name`, used verbatim (Bodywork 2/3 did not change case). */
function readStageSecrets(yaml: YamlFile, stage: Entries, dotted: string): SecretRef[] {
  const secretsEntry = stage.get('secrets');
  if (!secretsEntry || isEmpty(secretsEntry.value)) return [];
  const secrets = yaml.mapping(secretsEntry.value, `${dotted}.secrets`, yaml.at(secretsEntry.key));
  if (!secrets) return [];
  return [...secrets].map(([env, { key }]) => {
    const at = yaml.at(key);
    if (!isEnvVarName(env)) yaml.error(at, `${dotted}.secrets key must be ${ENV_NAME_EXPECTED}, got ${quoteValue(env)}`);
    const secret = yaml.string(secrets, env, `${dotted}.secrets`, at);
    if (secret && !isDns1123Subdomain(secret.value)) yaml.error(secret.at, `${dotted}.secrets.${env} must be ${SECRET_NAME_EXPECTED}, got ${quoteValue(secret.value)}`);
    return { env, secret: secret?.value ?? '', key: env, source: at };
  });
}

/** Exactly one of `batch` and `service`: the stage's type and that section, into `spec`. */
function readStageKind(yaml: YamlFile, stage: Entries, dotted: string, where: SourceRef, version: SchemaVersion | undefined, spec: StageSpec): void {
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
}
