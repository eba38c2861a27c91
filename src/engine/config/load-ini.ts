/**
 * The INI layout of Bodywork 0.2–1.0 (the tutorial's): `bodywork.ini` at the project root, and one
 * directory per stage, named like the stage, holding `config.ini`, the script and an optional
 * `requirements.txt`. Values may be quoted (the tutorial quotes them); one pair of quotes is stripped.
 */
import { quoteValue } from './quote.js';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

import { checkDagStages, parseDag } from './dag.js';
import { checkProjectFile, isDirectory, isFile, projectPath, readProjectText, requirementLines } from './files.js';
import { checkStageNames, describeNumberRule, NUMBER_RULES, type NumberRule, ProblemList, satisfiesNumberRule } from './collect.js';
import { type IniDocument, type IniEntry, type IniSection, parseIni, unquote } from './ini.js';
import {
  ENV_NAME_EXPECTED,
  IMAGE_EXPECTED,
  isEnvVarName,
  isImageReference,
  KUBERNETES_NAME_EXPECTED,
  LOG_LEVELS,
  lowerCaseLogLevel,
  parseDecimal,
  parseIniBoolean,
  parseWholeNumber,
  SECRET_NAME_EXPECTED,
} from './rules.js';
import { isDns1123Subdomain } from '../kube/names.js';
import { hasNameCharacters } from '../plan/names.js';
import type { ProjectSpec, SecretRef, SourceRef, StageSpec } from './spec.js';
import { nearest } from './suggest.js';

/** Known keys per section (upper case, as documented); `'any'` = free-form keys (`[secrets]`). */
type IniSchema = Record<string, readonly string[] | 'any'>;

const PROJECT_SCHEMA: IniSchema = {
  default: ['PROJECT_NAME', 'DOCKER_IMAGE'],
  workflow: ['DAG'],
  logging: ['LOG_LEVEL'],
};

const STAGE_SCHEMA: IniSchema = {
  default: ['STAGE_TYPE', 'EXECUTABLE_SCRIPT', 'CPU_REQUEST', 'MEMORY_REQUEST_MB'],
  batch: ['MAX_COMPLETION_TIME_SECONDS', 'RETRIES'],
  service: ['MAX_STARTUP_TIME_SECONDS', 'REPLICAS', 'PORT', 'INGRESS'],
  secrets: 'any',
};

/** Keys that may be left out (with their default). */
const OPTIONAL_KEYS = new Set(['INGRESS']);

export const INI_PROJECT_FILE = 'bodywork.ini';
const STAGE_CONFIG = 'config.ini';
const REQUIREMENTS = 'requirements.txt';

/** One parsed INI file with the lookups the loaders need; it reports what is missing or unknown. */
class IniFile {
  private readonly reportedMissing = new Set<string>();

  constructor(
    readonly file: string,
    private readonly doc: IniDocument,
    private readonly schema: IniSchema,
    private readonly problems: ProblemList,
  ) {
    for (const p of doc.problems) problems.error(this.at(p.line), p.message);
    this.warnUnknown();
  }

  at(line?: number): SourceRef {
    return line === undefined ? { file: this.file } : { file: this.file, line };
  }

  section(name: string): IniSection | undefined {
    return this.doc.sections.find((s) => s.name === name);
  }

  /** The entries of a section whose values could be read (one whose interpolation failed was reported already). */
  entries(section: string): IniEntry[] {
    return this.section(section)?.entries.filter((e) => e.unresolved !== true) ?? [];
  }

  entry(section: string, key: string): IniEntry | undefined {
    return this.section(section)?.entries.find((e) => e.key === key.toLowerCase());
  }

  /** The unquoted value of a required key, reporting a missing section (once) or key. */
  required(sectionName: string, key: string): { value: string; line: number } | undefined {
    const section = this.section(sectionName);
    if (!section) {
      if (!this.reportedMissing.has(sectionName)) {
        this.reportedMissing.add(sectionName);
        const keys = this.schema[sectionName];
        const needed = keys === 'any' ? [] : keys.filter((k) => !OPTIONAL_KEYS.has(k));
        this.problems.error(this.at(), `missing section [${sectionName}]; expected it to set ${joinAnd(needed)}`);
      }
      return undefined;
    }
    const entry = this.entry(sectionName, key);
    if (!entry) {
      this.problems.error(this.at(section.line), `missing key ${key} in [${sectionName}]`);
      return undefined;
    }
    if (entry.unresolved) return undefined;
    return { value: unquote(entry.value), line: entry.line };
  }

  /** Unknown sections and keys are warnings (configparser ignored them), with the nearest known name. */
  private warnUnknown(): void {
    const known = Object.keys(this.schema);
    for (const section of this.doc.sections) {
      const keys = this.schema[section.name];
      if (keys === undefined) {
        const close = nearest(section.name, known);
        this.problems.warning(
          this.at(section.line),
          close !== undefined
            ? `unknown section [${section.name}]; did you mean [${close}]?`
            : `unknown section [${section.name}] is ignored (known sections: ${known.map((k) => `[${k}]`).join(', ')})`,
        );
        continue;
      }
      if (keys === 'any') continue;
      for (const entry of section.entries) {
        if (keys.some((k) => k.toLowerCase() === entry.key)) continue;
        const close = nearest(entry.rawKey, keys);
        this.problems.warning(
          this.at(entry.line),
          close !== undefined
            ? `unknown key ${entry.rawKey} in [${section.name}]; did you mean ${close}?`
            : `unknown key ${entry.rawKey} in [${section.name}] is ignored (known keys: ${keys.join(', ')})`,
        );
      }
    }
  }
}

function joinAnd(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** Reads the number `[section] key` under `rule`, reporting `KEY must be <rule>, got "<text>"` at its line (NaN when wrong or missing). */
function requiredNumber(file: IniFile, section: string, key: string, rule: NumberRule, problems: ProblemList): number {
  const found = file.required(section, key);
  if (!found) return Number.NaN;
  const parsed = rule.whole ? parseWholeNumber(found.value) : parseDecimal(found.value);
  if (parsed === undefined || !satisfiesNumberRule(rule, parsed)) {
    problems.error(file.at(found.line), `${key} must be ${describeNumberRule(rule)}, got ${quoteValue(found.value)}`);
    return Number.NaN;
  }
  return parsed;
}

/** Loads `bodywork.ini` and the `config.ini` of every stage in its DAG. */
export async function loadIniProject(root: string, problems: ProblemList): Promise<ProjectSpec | undefined> {
  const read = await readProjectText(root, INI_PROJECT_FILE);
  if (read.text === undefined) {
    problems.error({ file: INI_PROJECT_FILE }, read.problem);
    return undefined;
  }
  const project = new IniFile(INI_PROJECT_FILE, parseIni(read.text), PROJECT_SCHEMA, problems);

  // [default]
  const name = project.required('default', 'PROJECT_NAME');
  if (name && !hasNameCharacters(name.value)) {
    problems.error(project.at(name.line), `PROJECT_NAME must be ${KUBERNETES_NAME_EXPECTED}, got ${quoteValue(name.value)}`);
  }
  const image = project.required('default', 'DOCKER_IMAGE');
  if (image && !isImageReference(image.value)) {
    problems.error(project.at(image.line), `DOCKER_IMAGE must be ${IMAGE_EXPECTED}, got ${quoteValue(image.value)}`);
  }

  // [logging]
  const logLevel = project.required('logging', 'LOG_LEVEL');
  if (logLevel && !(LOG_LEVELS as readonly string[]).includes(logLevel.value.toUpperCase())) {
    problems.error(project.at(logLevel.line), `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${quoteValue(logLevel.value)}`);
  } else if (logLevel && logLevel.value !== logLevel.value.toUpperCase()) {
    problems.warning(project.at(logLevel.line), lowerCaseLogLevel('LOG_LEVEL', logLevel.value));
  }

  // [workflow] DAG: every stage must be a directory of the project.
  const dag = project.required('workflow', 'DAG');
  const dagSource = project.at(dag?.line);
  const parsed = dag ? parseDag(dag.value) : { steps: [], problems: [] };
  for (const message of parsed.problems) problems.error(dagSource, message);

  const names = [...new Set(parsed.steps.flat())];
  const existing = new Set<string>();
  const linked = new Set<string>();
  for (const stage of names) {
    if (!isPlainDirectoryName(stage)) continue;
    // A linked stage directory would validate here and then be missing from the code bundle (it does not follow links).
    if ((await lstat(path.join(root, stage)).catch(() => undefined))?.isSymbolicLink()) {
      linked.add(stage);
      problems.error(dagSource, `stage directory ${stage}/ is a symbolic link; a stage directory must be a real directory of the project (the code bundle does not follow links)`);
    } else if (await isDirectory(path.join(root, stage))) {
      existing.add(stage);
    }
  }
  const known = await stageDirectories(root);
  for (const message of checkDagStages(
    parsed.steps,
    (stage) => existing.has(stage) || linked.has(stage),
    known,
    (stage, hint) => `DAG names stage ${quoteValue(stage)}, but the project has no stage directory ${stage}/${hint}`,
  )) {
    problems.error(dagSource, message);
  }
  checkStageNames({ format: 'ini', name: name?.value ?? '' }, [...existing], () => dagSource, problems);

  const stages: Record<string, StageSpec> = {};
  for (const stage of existing) {
    const spec = await loadIniStage(root, stage, problems);
    if (spec) stages[stage] = spec;
  }

  if (!name || !image || !logLevel || !dag) return undefined;
  return {
    format: 'ini',
    root,
    configFile: INI_PROJECT_FILE,
    name: name.value,
    image: image.value,
    dag: parsed.steps,
    dagSource,
    stages,
    logLevel: logLevel.value.toUpperCase(),
  };
}

/** A stage name that can be a single directory of the project root. */
function isPlainDirectoryName(name: string): boolean {
  return name !== '.' && name !== '..' && !/[/\\]/.test(name);
}

/** Directories of the project root that hold a `config.ini`: the stages a DAG could name. */
async function stageDirectories(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const dirs: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory() && !entry.name.startsWith('.') && (await isFile(path.join(root, entry.name, STAGE_CONFIG)))) dirs.push(entry.name);
  }
  return dirs.sort();
}

/** Loads one stage directory's `config.ini` (and `requirements.txt`, if any). */
async function loadIniStage(root: string, stage: string, problems: ProblemList): Promise<StageSpec | undefined> {
  const file = `${stage}/${STAGE_CONFIG}`;
  const read = await readProjectText(root, file);
  if (read.text === undefined) {
    problems.error({ file }, read.missing ? `file not found; stage ${quoteValue(stage)} needs a ${STAGE_CONFIG} in its directory ${stage}/` : read.problem);
    return undefined;
  }
  const config = new IniFile(file, parseIni(read.text), STAGE_SCHEMA, problems);

  // [default]
  const type = readStageType(config, problems);
  const spec: StageSpec = {
    name: stage,
    type: type === 'service' ? 'service' : 'batch',
    executable: await readExecutable(root, stage, config, problems),
    args: [],
    cpuRequest: requiredNumber(config, 'default', 'CPU_REQUEST', NUMBER_RULES.cpuRequest, problems),
    memoryRequestMb: requiredNumber(config, 'default', 'MEMORY_REQUEST_MB', NUMBER_RULES.memoryRequestMb, problems),
    requirements: [],
    secrets: [],
    source: { file, line: 1 },
  };

  // [batch] / [service]: only the section of the stage's type is read; the other one is ignored.
  if (type === 'batch') {
    spec.batch = {
      maxCompletionTimeSeconds: requiredNumber(config, 'batch', 'MAX_COMPLETION_TIME_SECONDS', NUMBER_RULES.seconds, problems),
      retries: requiredNumber(config, 'batch', 'RETRIES', NUMBER_RULES.retries, problems),
    };
    warnIgnoredSection(config, 'service', 'batch', problems);
  } else if (type === 'service') {
    spec.service = {
      maxStartupTimeSeconds: requiredNumber(config, 'service', 'MAX_STARTUP_TIME_SECONDS', NUMBER_RULES.seconds, problems),
      replicas: requiredNumber(config, 'service', 'REPLICAS', NUMBER_RULES.replicas, problems),
      port: requiredNumber(config, 'service', 'PORT', NUMBER_RULES.port, problems),
      ingress: readIngress(config, problems),
    };
    warnIgnoredSection(config, 'batch', 'service', problems);
  }
  spec.secrets = readSecrets(config, problems);
  await readRequirements(root, stage, config, problems, spec);
  return spec;
}

/** `STAGE_TYPE`, lower-cased (warned when it was not); undefined when missing, reported when neither batch nor service. */
function readStageType(config: IniFile, problems: ProblemList): string | undefined {
  const found = config.required('default', 'STAGE_TYPE');
  const type = found?.value.toLowerCase();
  if (found && type !== 'batch' && type !== 'service') {
    problems.error(config.at(found.line), `STAGE_TYPE must be "batch" or "service", got ${quoteValue(found.value)}`);
  } else if (found && found.value !== type) {
    problems.warning(config.at(found.line), `STAGE_TYPE ${quoteValue(found.value)} is read as ${type}; Bodywork accepted only "batch" or "service", in lower case`);
  }
  return type;
}

/** `EXECUTABLE_SCRIPT` as a path from the project root; '' when it is missing or names no file in the stage directory. */
async function readExecutable(root: string, stage: string, config: IniFile, problems: ProblemList): Promise<string> {
  const script = config.required('default', 'EXECUTABLE_SCRIPT');
  if (!script) return '';
  const relative = projectPath(`${stage}/${script.value}`);
  const expected = `EXECUTABLE_SCRIPT must name a file in ${stage}/, got ${quoteValue(script.value)}`;
  if (script.value === '' || relative === undefined) {
    problems.error(config.at(script.line), expected);
    return '';
  }
  const problem = await checkProjectFile(root, relative);
  if (problem !== undefined) {
    problems.error(config.at(script.line), `${expected} (${problem.problem})`);
    return '';
  }
  return relative;
}

/** `[service] INGRESS`: optional, false by default; the words configparser's getboolean takes (warned unless True/False). */
function readIngress(config: IniFile, problems: ProblemList): boolean {
  const ingress = config.entry('service', 'INGRESS');
  if (!ingress || ingress.unresolved) return false;
  const value = unquote(ingress.value);
  const parsed = parseIniBoolean(value);
  if (parsed === undefined) {
    problems.error(config.at(ingress.line), `INGRESS must be True or False (or yes/no, on/off, 1/0), got ${quoteValue(value)}`);
    return false;
  }
  if (value !== 'True' && value !== 'False') {
    problems.warning(config.at(ingress.line), `INGRESS ${quoteValue(value)} is read as ${parsed ? 'True' : 'False'}; Bodywork 1 accepted only True or False`);
  }
  return parsed;
}

/**
 * `[secrets] ENV_VAR = secret-name`: the variable (also the key inside the Secret) is upper-cased and the Secret name
 * lower-cased, as Bodywork did.
 */
function readSecrets(config: IniFile, problems: ProblemList): SecretRef[] {
  return config.entries('secrets').map((entry) => {
    const env = entry.rawKey.toUpperCase();
    const secret = unquote(entry.value).toLowerCase();
    if (!isEnvVarName(env)) {
      problems.error(config.at(entry.line), `[secrets] key must be ${ENV_NAME_EXPECTED}, got ${quoteValue(entry.rawKey)}`);
    }
    if (!isDns1123Subdomain(secret)) {
      problems.error(config.at(entry.line), `[secrets] ${entry.rawKey} must be ${SECRET_NAME_EXPECTED}, got ${quoteValue(unquote(entry.value))}`);
    }
    return { env, secret, key: env, source: config.at(entry.line) };
  });
}

/** The stage's `requirements.txt` into `spec` (optional here; Bodywork required it, even empty). */
async function readRequirements(root: string, stage: string, config: IniFile, problems: ProblemList, spec: StageSpec): Promise<void> {
  const requirements = await readProjectText(root, `${stage}/${REQUIREMENTS}`);
  if (requirements.text !== undefined) {
    spec.requirements = requirementLines(requirements.text);
    spec.requirementsFile = `${stage}/${REQUIREMENTS}`;
  } else if (requirements.missing) {
    problems.warning(config.at(), `${stage}/${REQUIREMENTS} does not exist, so no packages are installed; Bodywork required the file (it may be empty)`);
  } else {
    problems.error({ file: `${stage}/${REQUIREMENTS}` }, requirements.problem);
  }
}

function warnIgnoredSection(config: IniFile, section: string, type: string, problems: ProblemList): void {
  const found = config.section(section);
  if (found) problems.warning(config.at(found.line), `section [${section}] is ignored: STAGE_TYPE is "${type}"`);
}
