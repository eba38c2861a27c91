/**
 * The diff of `plan --server`, as `kubectl diff` prints it: each object as YAML, live vs what the server's dry run
 * answered, as a unified diff (the `diff` package's; no diff algorithm of ours). Fields the server owns and a user
 * never wrote (managedFields, resourceVersion, uid, timestamps, generation, status) are removed from both sides, so
 * the diff shows what the deploy changes. Secret values are masked on both sides the way kubectl diff masks them, and
 * code ConfigMaps show each file by size and sha256 (render.ts), never its content.
 */
import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import { ANNOTATION_RUN_ID, withoutCode } from '../plan/index.js';

/** An object as read from or answered by the API server (typed model or raw JSON). */
export type ServerObject = { apiVersion?: string; kind?: string; metadata?: Record<string, unknown> } & Record<string, unknown>;

/** metadata fields the server sets; kubectl diff leaves most of them in, which is noise in a review. */
const SERVER_METADATA = ['managedFields', 'resourceVersion', 'uid', 'creationTimestamp', 'generation', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds'];

/**
 * Labels the Job controller derives from a Job's own name and uid: different for every Job, so comparing a run's new
 * Job with the stage's last one would always show them.
 */
const JOB_IDENTITY_LABELS = ['controller-uid', 'batch.kubernetes.io/controller-uid', 'job-name', 'batch.kubernetes.io/job-name'];

function record(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function dropKeys(map: unknown, keys: string[]): void {
  const m = record(map);
  if (m) for (const k of keys) delete m[k];
}

function dropEmpty(parent: Record<string, unknown> | undefined, key: string): void {
  const m = record(parent?.[key]);
  if (parent && m && Object.keys(m).length === 0) delete parent[key];
}

/**
 * A copy of `obj` without what the server owns. Also without the `bodywork.dev/run-id` annotation: every deploy
 * writes a new one (that is what rolls a service's pods each run), so it would be the one change shown on every
 * object of every plan and hide the changes a user made. For a per-run Job (`job: true`) also without its name and
 * the labels derived from its name and uid: the diff compares the stage's Job, not two names.
 */
export function normalize(obj: ServerObject | undefined, opts: { job?: boolean } = {}): ServerObject | undefined {
  if (obj === undefined) return undefined;
  // Through JSON: typed models become plain data (dates as strings), undefined fields disappear.
  const o = JSON.parse(JSON.stringify(withoutCode(obj))) as ServerObject;
  delete o.status;
  const meta = record(o.metadata) ?? {};
  dropKeys(meta, SERVER_METADATA);
  dropKeys(meta.annotations, [ANNOTATION_RUN_ID]);
  if (opts.job) {
    delete meta.name;
    delete meta.generateName;
    const spec = record(o.spec);
    const template = record(spec?.template);
    const templateMeta = record(template?.metadata);
    dropKeys(meta.labels, JOB_IDENTITY_LABELS);
    dropKeys(record(spec?.selector)?.matchLabels, JOB_IDENTITY_LABELS);
    dropKeys(templateMeta?.labels, JOB_IDENTITY_LABELS);
    dropKeys(templateMeta?.annotations, [ANNOTATION_RUN_ID]);
    if (templateMeta) for (const k of ['labels', 'annotations']) dropEmpty(templateMeta, k);
    // A selector left empty was only the generated one.
    const selector = record(spec?.selector);
    if (selector) dropEmpty(selector, 'matchLabels');
    if (spec) dropEmpty(spec, 'selector');
  } else {
    dropKeys(record(record(record(o.spec)?.template)?.metadata)?.annotations, [ANNOTATION_RUN_ID]);
  }
  for (const k of ['labels', 'annotations']) dropEmpty(meta, k);
  o.metadata = meta;
  return o;
}

/**
 * Masks the values of two versions of a Secret as kubectl diff does: `***` for a key whose value is the same on both
 * sides (or only on one side), `*** (before)` and `*** (after)` for one that changed. Keys stay visible; values never.
 */
export function maskSecrets(live: ServerObject | undefined, planned: ServerObject | undefined): [ServerObject | undefined, ServerObject | undefined] {
  const a = live === undefined ? undefined : structuredClone(live);
  const b = planned === undefined ? undefined : structuredClone(planned);
  for (const field of ['data', 'stringData']) {
    const before = record(a?.[field]);
    const after = record(b?.[field]);
    for (const key of new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])) {
      const changed = before !== undefined && after !== undefined && key in before && key in after && String(before[key]) !== String(after[key]);
      if (before && key in before) before[key] = changed ? '*** (before)' : '***';
      if (after && key in after) after[key] = changed ? '*** (after)' : '***';
    }
  }
  return [a, b];
}

/** `apps.v1.Deployment.ns.name`, the file name kubectl diff gives an object. */
export function diffFileName(obj: { apiVersion?: string; kind?: string; namespace?: string; name: string }): string {
  const [group, version] = obj.apiVersion?.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion ?? 'v1'];
  return [group, version, obj.kind ?? 'object', obj.namespace, obj.name].filter((p) => p !== undefined && p !== '').join('.');
}

function toYaml(obj: ServerObject | undefined): string {
  // Keys sorted: the server's field order and the plan's need not agree, and the diff must show changes only.
  return obj === undefined ? '' : stringify(obj, { lineWidth: 0, sortMapEntries: true, aliasDuplicateObjects: false });
}

/**
 * The unified diff from `live` (undefined: the object would be created, so every line is added) to `planned`, both
 * normalised (and masked for Secrets); '' when they are the same.
 */
export function objectDiff(name: string, live: ServerObject | undefined, planned: ServerObject | undefined, opts: { job?: boolean } = {}): string {
  let before = normalize(live, opts);
  let after = normalize(planned, opts);
  if ((planned?.kind ?? live?.kind) === 'Secret') [before, after] = maskSecrets(before, after);
  const a = toYaml(before);
  const b = toYaml(after);
  if (a === b) return '';
  return createTwoFilesPatch(live === undefined ? '/dev/null' : `LIVE/${name}`, `MERGED/${name}`, a, b, undefined, undefined, { context: 3 })
    .split('\n')
    .filter((line) => !line.startsWith('====='))
    .join('\n');
}
