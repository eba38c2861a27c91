/**
 * `checkOnServer`'s result as plain text, one renderer for the CLI (which neutralises each line for CI runners) and
 * the action's summary (which escapes it): the verdict, one line per object, and the diffs. The server's messages and
 * the objects' fields are untrusted text: callers escape them for where they print.
 */
import type { CheckOutcome, ObjectCheck, ServerCheckResult } from './dry-run.js';
import type { MissingSecret } from './dry-run-secrets.js';

const OUTCOME_TEXT: Record<CheckOutcome, string> = {
  refused: 'refused',
  create: 'to create',
  update: 'to update',
  unchanged: 'unchanged',
  unchecked: 'not checked',
};

/** `2 refused, 5 to create, 1 to update, 3 unchanged`: the outcomes that occur, refusals first. */
export function countOutcomes(result: ServerCheckResult): string {
  const order: CheckOutcome[] = ['refused', 'create', 'update', 'unchanged', 'unchecked'];
  return order
    .map((o) => [o, result.objects.filter((x) => x.outcome === o).length] as const)
    .filter(([, n]) => n > 0)
    .map(([o, n]) => `${n} ${OUTCOME_TEXT[o]}`)
    .join(', ');
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** One line: the verdict of the dry run. */
export function verdictLine(result: ServerCheckResult): string {
  const head =
    result.refused.length === 0
      ? `the API server accepts every object it checked in namespace ${result.namespace}`
      : `the API server refuses ${plural(result.refused.length, 'object', 'objects')} in namespace ${result.namespace}`;
  const secrets =
    result.missingSecrets.length > 0
      ? `; ${plural(result.missingSecrets.length, 'Secret or key the run needs is missing', 'Secrets or keys the run needs are missing')}`
      : result.secretsUnchecked !== undefined
        ? '; the Secrets were not checked'
        : '';
  const unchecked =
    result.unchecked.length === 0
      ? ''
      : result.namespaceExists
        ? `; ${result.unchecked.length} not checked`
        : `; ${result.unchecked.length} not checked: namespace ${result.namespace} does not exist yet, and the API server checks the objects in it only once it does (a deploy creates it first)`;
  return `${head} (${countOutcomes(result)})${unchecked}${secrets}`;
}

/** Why the check fails, in one line (for the CLI's exit and the action's failure): refusals, then missing Secrets. */
export function problemsLine(result: ServerCheckResult): string {
  const parts = [
    ...(result.refused.length > 0 ? [`the API server refuses ${plural(result.refused.length, 'object', 'objects')} (${result.refused.map((o) => o.object).join(', ')})`] : []),
    ...(result.missingSecrets.length > 0 ? [`${plural(result.missingSecrets.length, 'Secret or key is missing', 'Secrets or keys are missing')} (${result.missingSecrets.map(secretName).join(', ')})`] : []),
  ];
  return `${parts.join('; ')}; nothing was written`;
}

/** `db-creds` or `db-creds key PASSWORD`. */
function secretName(m: MissingSecret): string {
  return m.key !== undefined ? `${m.secret} key ${m.key}` : m.secret;
}

/** One line per missing Secret or key: `missing     Secret ml/db: needed by stage train (train/config.ini:12): ...`. */
export function missingSecretLines(result: ServerCheckResult): string[] {
  return result.missingSecrets.map((m) => `${'missing'.padEnd(12)}Secret ${result.namespace}/${m.secret}: needed by ${m.usedBy}: ${m.message}`);
}

/** One line for an object: `refused    Deployment ml/api: <server message>`. */
export function objectLine(o: ObjectCheck): string {
  const why = o.message !== undefined ? `: ${o.message}` : '';
  const job = o.kind === 'Job' ? (o.comparedWith !== undefined ? ` (new each run; compared with ${o.comparedWith})` : ' (new each run)') : '';
  return `${OUTCOME_TEXT[o.outcome].padEnd(12)}${o.object}${job}${why}`;
}

/** The object lines, refusals and missing Secrets first, then warnings the server gave (`warning: Job ml/x: ...`). */
export function renderObjectLines(result: ServerCheckResult): string[] {
  const refusedFirst = [...result.refused, ...result.objects.filter((o) => o.outcome !== 'refused')];
  const lines = [...result.refused.map(objectLine), ...missingSecretLines(result), ...refusedFirst.slice(result.refused.length).map(objectLine)];
  if (result.secretsUnchecked !== undefined) lines.push(`warning: ${result.secretsUnchecked}`);
  for (const o of result.objects) for (const w of o.warnings) lines.push(`warning: ${o.object}: ${w}`);
  return lines;
}

/**
 * The diffs of every object that changes (or is created, or could not be checked and is shown as planned), in the
 * deploy's order, as kubectl diff prints them; '' when nothing changes.
 */
export function renderDiff(result: ServerCheckResult): string {
  return result.objects
    .filter((o) => o.diff !== '')
    .map((o) => (o.diff.endsWith('\n') ? o.diff : `${o.diff}\n`))
    .join('');
}
