/**
 * Kubernetes names and label values for Bodywork objects.
 *
 * Every stage object (Job, Deployment, Service, Ingress) gets one name that is valid for all of them:
 * a DNS-1035 label (RFC 1035: lower-case alphanumerics and `-`, starting with a letter, ending with an
 * alphanumeric, at most 63 characters). Services require exactly that
 * (https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#rfc-1035-label-names), and a
 * Job's name becomes the `job-name` label of its pods, so it must fit a label value too.
 * Bodywork never lower-cased or truncated (bodywork-behaviour.md §7.9); this module does both.
 */
import { createHash } from 'node:crypto';
import type { ProjectSpec } from '../config/spec.js';
import { MAX_NAME_LENGTH } from '../kube/names.js';

/** Hex characters of the hash suffix appended to names that had to be shortened. */
const HASH_LENGTH = 8;
/** Prefix for names that would otherwise start with a digit (Service names must start with a letter). */
const LEADING_DIGIT_PREFIX = 'bw-';

/** A short, stable hex digest of `text` (SHA-256), `length` characters long. */
export function shortHash(text: string | Buffer, length = HASH_LENGTH): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** Lower-cases and replaces every run of characters other than `[a-z0-9-]` with `-`, trimming `-` at both ends. */
function sanitize(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * Cuts `name` to at most `max` characters, replacing the cut part with `-<hash>` of the whole name,
 * so two long names sharing a prefix stay distinct and the same name always shortens the same way.
 */
export function shorten(name: string, max = MAX_NAME_LENGTH): string {
  if (name.length <= max) return name;
  const hash = shortHash(name);
  const head = name.slice(0, max - HASH_LENGTH - 1).replace(/-+$/, '');
  return `${head}-${hash}`;
}

/**
 * Turns any text into a DNS-1035 label: lower-cased, every run of characters other than `[a-z0-9-]`
 * replaced by one `-` (so `--` written on purpose, as in `project--stage`, survives), `-` trimmed
 * from both ends, `bw-` put in front of a leading digit, and shortened with a hash suffix past 63 characters.
 */
export function toDnsName(raw: string, max = MAX_NAME_LENGTH): string {
  let name = sanitize(raw);
  if (name === '') return `${LEADING_DIGIT_PREFIX}${shortHash(raw)}`;
  if (/^[0-9]/.test(name)) name = `${LEADING_DIGIT_PREFIX}${name}`;
  return shorten(name, max);
}

/**
 * True when `raw` has a letter or digit, so `toDnsName` and `toDnsLabel` make a name from it instead of inventing
 * one (`bw-<hash>`): what config validation asks of project and stage names.
 */
export function hasNameCharacters(raw: string): boolean {
  return sanitize(raw) !== '';
}

/**
 * Whether a project's stage objects carry the project name (`<project>--<stage>`), as Bodywork 1 (INI) and
 * Bodywork 2 (YAML schema "1.0") named them; Bodywork 3 (schema "1.1") used the stage name alone.
 */
export function prefixesStageNames(spec: Pick<ProjectSpec, 'format' | 'schemaVersion'>): boolean {
  return spec.format === 'ini' || spec.schemaVersion === '1.0';
}

/**
 * The Kubernetes name of a stage's objects (Job, Deployment, Service, Ingress), per format as each Bodywork version
 * named them (bodywork-behaviour.md §2.2): `make_valid_k8s_name(f"{project}--{stage}")` for INI and schema "1.0",
 * `<stage>` for schema "1.1"; made a valid DNS-1035 label by `toDnsName`.
 */
export function stageObjectName(spec: Pick<ProjectSpec, 'format' | 'schemaVersion' | 'name'>, stage: string): string {
  return toDnsName(prefixesStageNames(spec) ? `${spec.name}--${stage}` : stage);
}

/** The Job a run creates for a batch stage: `<baseName>-<run id>` (a new Job per run: Job templates are immutable). */
export function runJobName(baseName: string, runId: string): string {
  return withSuffix(baseName, runId);
}

/**
 * Turns any text into a DNS-1123 label, for namespaces and label values: as `toDnsName`, but a leading
 * digit is kept (`2021-forecast` stays `2021-forecast`, as Bodywork would name its namespace).
 */
export function toDnsLabel(raw: string, max = MAX_NAME_LENGTH): string {
  const name = sanitize(raw);
  return name === '' ? toDnsName(raw, max) : shorten(name, max);
}

/**
 * Appends `-<suffix>` to a planned object name, shortening the base (with its hash) so the result
 * still fits in 63 characters: for per-run Job names such as `<base>-<run>`.
 */
export function withSuffix(base: string, suffix: string): string {
  const clean = sanitize(suffix).slice(0, 20).replace(/-+$/, '');
  if (clean === '') return base;
  const tail = `-${clean}`;
  return `${shorten(base, MAX_NAME_LENGTH - tail.length)}${tail}`;
}
