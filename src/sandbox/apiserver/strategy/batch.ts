/** The Job and CronJob strategies (K pkg/registry/batch/{job,cronjob}/strategy.go, K pkg/apis/batch/validation). */
import type { KubeObject } from '../../types.js';
import { field, type FieldError } from '../../machinery/errors.js';
import { deepEqual, isPlainObject } from '../patch.js';
import { fromLabelSelector, labelsMatch } from '../selectors.js';
import { goLabelSelector, invalidRaw } from './meta.js';
import { defaultTemplate, validatePodSpec, validateSelectorAndTemplate } from './podspec.js';

/** SetDefaults_Job. */
export function defaultJob(obj: KubeObject): void {
  const spec = obj.spec;
  if (isPlainObject(spec)) {
    // SetDefaults_Job
    if (spec.completions == null && spec.parallelism == null) {
      spec.completions = 1;
      spec.parallelism = 1;
    }
    spec.parallelism ??= 1;
    if (spec.backoffLimit == null) spec.backoffLimit = spec.backoffLimitPerIndex != null ? 2147483647 : 6;
    spec.completionMode ??= 'NonIndexed';
    spec.suspend ??= false;
    spec.podReplacementPolicy ??= spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
    defaultTemplate(spec.template);
  }
}

/** SetDefaults_CronJob. */
export function defaultCronJob(obj: KubeObject): void {
  const spec = obj.spec;
  if (isPlainObject(spec)) {
    // SetDefaults_CronJob; the job template's pod spec gets the PodSpec defaults.
    spec.concurrencyPolicy ??= 'Allow';
    spec.suspend ??= false;
    spec.successfulJobsHistoryLimit ??= 3;
    spec.failedJobsHistoryLimit ??= 1;
    defaultTemplate(spec.jobTemplate?.spec?.template);
  }
}

/** Generated Job selector and template labels (K pkg/registry/batch/job/strategy.go generateSelector). */
export function generateJobSelector(obj: KubeObject): void {
  const spec = obj.spec;
  if (!isPlainObject(spec) || spec.manualSelector === true) return;
  const uid = obj.metadata.uid!;
  const name = obj.metadata.name!;
  spec.template ??= {};
  spec.template.metadata ??= {};
  spec.template.metadata.labels = {
    ...(spec.template.metadata.labels ?? {}),
    'batch.kubernetes.io/controller-uid': uid,
    'batch.kubernetes.io/job-name': name,
    'controller-uid': uid,
    'job-name': name,
  };
  if (!spec.selector) spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
}

/** ValidateJob / ValidateJobSpecUpdate. */
export function validateJob(obj: KubeObject, old: KubeObject | undefined, errs: FieldError[]): void {
  const spec = obj.spec;
  if (spec?.manualSelector === true) validateSelectorAndTemplate(spec, errs, 'job');
  else if (spec?.selector && !labelsMatch(fromLabelSelector(spec.selector), spec?.template?.metadata?.labels ?? {})) {
    errs.push(field.invalid('spec.template.metadata.labels', spec?.template?.metadata?.labels ?? {}, '`selector` does not match template `labels`'));
  }
  validatePodSpec(spec?.template?.spec, 'spec.template.spec', errs);
  const rp = spec?.template?.spec?.restartPolicy;
  if (rp !== 'OnFailure' && rp !== 'Never') errs.push(field.notSupported('spec.template.spec.restartPolicy', rp, ['OnFailure', 'Never']));
  for (const f of ['parallelism', 'completions', 'backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished']) {
    if (typeof spec?.[f] === 'number' && spec[f] < 0) errs.push(field.invalid(`spec.${f}`, spec[f], 'must be greater than or equal to 0'));
  }
  if (!['NonIndexed', 'Indexed'].includes(spec?.completionMode)) errs.push(field.notSupported('spec.completionMode', spec?.completionMode, ['NonIndexed', 'Indexed']));
  if (old) {
    // ValidateJobSpecUpdate: selector, template (unless suspended scheduling directives), completionMode are immutable.
    if (!deepEqual(spec?.selector, old.spec?.selector)) errs.push(invalidRaw('spec.selector', goLabelSelector(spec?.selector), 'field is immutable'));
    if (!deepEqual(spec?.template, old.spec?.template)) errs.push(invalidRaw('spec.template', `core.PodTemplateSpec${JSON.stringify(spec?.template ?? {})}`, 'field is immutable'));
    if (spec?.completionMode !== old.spec?.completionMode) errs.push(field.invalid('spec.completionMode', spec?.completionMode, 'field is immutable'));
    // completions is immutable, except for elastic Indexed Jobs scaling completions together with parallelism.
    if (spec?.completions !== old.spec?.completions && !(spec?.completionMode === 'Indexed' && spec?.completions === spec?.parallelism)) {
      errs.push(field.invalid('spec.completions', spec?.completions ?? null, 'field is immutable'));
    }
  }
}

/** ValidateCronJob. */
export function validateCronJob(obj: KubeObject, _old: KubeObject | undefined, errs: FieldError[]): void {
  const spec = obj.spec;
  // K pkg/apis/batch/validation/validation.go ValidateCronJob*: name <= 52 (job names get a suffix), schedule, policy.
  const name = obj.metadata?.name;
  if (name && name.length > 52) errs.push(field.invalid('metadata.name', name, 'must be no more than 52 characters'));
  const schedule = spec?.schedule;
  if (!schedule) errs.push(field.required('spec.schedule'));
  else {
    const msg = cronScheduleError(schedule);
    if (msg) errs.push(field.invalid('spec.schedule', schedule, msg));
  }
  if (!['Allow', 'Forbid', 'Replace'].includes(spec?.concurrencyPolicy)) errs.push(field.notSupported('spec.concurrencyPolicy', spec?.concurrencyPolicy, ['Allow', 'Forbid', 'Replace']));
  for (const f of ['startingDeadlineSeconds', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit']) {
    if (typeof spec?.[f] === 'number' && spec[f] < 0) errs.push(field.invalid(`spec.${f}`, spec[f], 'must be greater than or equal to 0'));
  }
  const tpl = spec?.jobTemplate?.spec?.template;
  validatePodSpec(tpl?.spec, 'spec.jobTemplate.spec.template.spec', errs);
  const rp = tpl?.spec?.restartPolicy;
  if (rp !== 'OnFailure' && rp !== 'Never') errs.push(field.notSupported('spec.jobTemplate.spec.template.spec.restartPolicy', rp, ['OnFailure', 'Never']));
}

const CRON_MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** cron.ParseStandard's verdict on a schedule (robfig/cron), reduced to the common mistakes; '' when valid. */
function cronScheduleError(schedule: string): string {
  if (/(^|\s)(CRON_)?TZ=/.test(schedule)) return 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead';
  const s = schedule.trim();
  if (s.startsWith('@')) {
    if (CRON_MACROS.has(s)) return '';
    if (/^@every \d+(\.\d+)?(ns|us|µs|ms|s|m|h)(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))*$/.test(s)) return '';
    return `unrecognized descriptor: ${s}`;
  }
  const fields = s.split(/\s+/).filter(Boolean);
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`;
  const names = /^[A-Za-z]{3}$/;
  const ranges = [
    [0, 59],
    [0, 23],
    [1, 31],
    [1, 12],
    [0, 6],
  ];
  for (let i = 0; i < 5; i++) {
    for (const part of fields[i].split(',')) {
      const m = part.match(/^(\*|\?|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:\/(\d+))?$/);
      if (!m) return `failed to parse int from ${part}: strconv.Atoi: parsing ${JSON.stringify(part)}: invalid syntax`;
      if (m[1] === '*' || m[1] === '?') continue;
      for (const v of m[1].split('-')) {
        if (names.test(v) && (i === 3 || i === 4)) continue;
        const n = Number(v);
        if (!Number.isInteger(n)) return `failed to parse int from ${v}: strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`;
        if (n < ranges[i][0]) return `beginning of range (${n}) below minimum (${ranges[i][0]}): ${part}`;
        if (n > ranges[i][1]) return `end of range (${n}) above maximum (${ranges[i][1]}): ${part}`;
      }
    }
  }
  return '';
}
