/**
 * What a deploy reports: the job summary, the PR comment, and the step outputs. A failed run's summary puts what a
 * reader came for first: the failure line, then each failed stage's last log lines (open, not collapsed) and its
 * pods' Warning events, then the header table, the pictures (the DAG as a Mermaid flowchart coloured by outcome, the
 * stages' timeline as a Mermaid Gantt: mermaid.ts), then the stages and services tables. Every piece of text from the
 * config, the cluster or a stage's logs goes through escapeHtml (or mermaidText, inside a diagram).
 */
import { formatDuration, type DeployResult, type StageEvent, type StageResult, type TeardownResult, type DeployPlan, type PlannedServiceStage } from '../engine/index.js';
import { code, escapeHtml, pre, SUMMARY_LIMIT_BYTES, table, truncateBytes } from './markdown.js';
import { renderDiagrams } from './mermaid.js';
import type { RunContext } from './run-context.js';

/** Log lines of one failed stage shown in the summary at most. */
const LOG_TAIL_BYTES = 32 * 1024;

const RESULT_ICON: Record<StageResult['status'], string> = {
  succeeded: '✅ succeeded',
  failed: '❌ failed',
  'rolled-back': '↩️ rolled back',
  skipped: '⏭️ skipped',
  cancelled: '⛔ cancelled',
};

export interface ServiceInfo {
  stage: string;
  /** Serving the revision from before this run. */
  rolledBack?: boolean;
  service: string;
  port?: number;
  url: string;
  publicUrl?: string;
  readyReplicas?: number;
  replicas?: number;
  /** The tutorial's way in: `kubectl proxy` on port 8001. */
  proxyUrl: string;
}

/** `http://localhost:8001/api/v1/namespaces/<ns>/services/<svc>:<port>/proxy/` */
export function proxyUrl(namespace: string, service: string, port?: number): string {
  return `http://localhost:8001/api/v1/namespaces/${namespace}/services/${service}${port !== undefined ? `:${port}` : ''}/proxy/`;
}

/** Fills a `public-url` template: `{namespace}`, `{service}` (the Service name), `{stage}`, `{pr}`. */
export function fillPublicUrl(template: string, values: { namespace: string; service: string; stage: string; pr?: number }): string {
  return template.replace(/\{(namespace|service|stage|pr)\}/g, (_m, k: string) => (k === 'pr' ? String(values.pr ?? '') : values[k as 'namespace' | 'service' | 'stage']));
}

/**
 * Whether a service stage's Deployment is serving at the end of the run: rolled out, or rolled back to the revision
 * that served before with ready replicas. Skipped, failed-first and cancelled ones have nothing to reach.
 */
function running(r: StageResult): boolean {
  return r.type === 'service' && (r.status === 'succeeded' || (r.status === 'rolled-back' && (r.readyReplicas ?? 0) > 0));
}

/** The services that are running, with their URLs. */
export function serviceInfos(plan: DeployPlan, result: DeployResult): ServiceInfo[] {
  const planned = new Map(plan.steps.flatMap((s) => s.stages).filter((s): s is PlannedServiceStage => s.type === 'service').map((s) => [s.stage, s]));
  return result.stages
    .filter((r) => running(r) && planned.has(r.stage))
    .map((r) => {
      const p = planned.get(r.stage)!;
      const service = p.service.metadata?.name ?? p.baseName;
      const port = p.service.spec?.ports?.[0]?.port;
      return {
        stage: r.stage,
        ...(r.status === 'rolled-back' ? { rolledBack: true } : {}),
        service,
        ...(port !== undefined ? { port } : {}),
        url: r.url ?? p.url,
        ...(r.publicUrl !== undefined ? { publicUrl: r.publicUrl } : {}),
        ...(r.readyReplicas !== undefined ? { readyReplicas: r.readyReplicas } : {}),
        ...(r.replicas !== undefined ? { replicas: r.replicas } : {}),
        proxyUrl: proxyUrl(result.namespace, service, port),
      };
    });
}

/** The `service-urls` output: stage -> public URL, else in-cluster URL (succeeded service stages). */
export function serviceUrls(result: DeployResult): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of result.stages) {
    if (s.type !== 'service' || s.status !== 'succeeded') continue;
    const url = s.publicUrl ?? s.url;
    if (url) out[s.stage] = url;
  }
  return out;
}

/** The `url` output: the first public URL, else the first in-cluster URL. */
export function primaryUrl(result: DeployResult): string | undefined {
  const ok = result.stages.filter((s) => s.type === 'service' && s.status === 'succeeded');
  return ok.find((s) => s.publicUrl)?.publicUrl ?? ok.find((s) => s.url)?.url;
}

/** The `stages` output: the stage results without their log tails and events (they belong in the log and the summary). */
export function stagesOutput(result: DeployResult): Omit<StageResult, 'logTail' | 'events'>[] {
  return result.stages.map((s) => {
    const copy: StageResult = { ...s };
    delete copy.logTail;
    delete copy.events;
    return copy;
  });
}

/** The stage the failure line names: the first that did not succeed. */
function firstBadStage(result: DeployResult): StageResult | undefined {
  return result.stages.find((s) => s.status === 'failed' || s.status === 'rolled-back' || s.status === 'cancelled');
}

/** The one line a failed run ends with: the first stage that did not succeed, and why. */
export function failureLine(result: DeployResult): string {
  const bad = firstBadStage(result);
  if (bad) {
    const verb = bad.status === 'rolled-back' ? 'was rolled back' : bad.status;
    return `stage '${bad.stage}' (step ${bad.step === 0 ? 'on failure' : bad.step}) ${verb}${bad.reason ? `: ${bad.reason}` : ''}`;
  }
  return result.reason ?? 'the deployment failed';
}

function triggerText(context: RunContext): string | undefined {
  if (!context.eventName) return undefined;
  if (context.eventName === 'schedule') return 'schedule (scheduled run)';
  if (context.pullRequest) return `${context.eventName} (#${context.pullRequest.number}${context.pullRequest.action ? `, ${context.pullRequest.action}` : ''})`;
  return context.eventName;
}

export function headerTable(project: string, namespace: string, context: RunContext, extra: string[][] = []): string {
  const rows: string[][] = [
    ['Project', code(project)],
    ['Namespace', code(namespace)],
    ...extra,
  ];
  if (context.sha) rows.push(['Commit', code(context.sha.slice(0, 12))]);
  const trigger = triggerText(context);
  if (trigger) rows.push(['Trigger', code(trigger)]);
  if (context.runUrl) rows.push(['Run', `<a href="${escapeHtml(context.runUrl)}">${escapeHtml(context.runUrl)}</a>`]);
  return table(undefined, rows);
}

function link(url: string | undefined): string {
  return url ? `<a href="${escapeHtml(url)}">${escapeHtml(url)}</a>` : '';
}

/** `namedAbove`: the stage whose reason the failure line already gives. */
export function stageTable(result: DeployResult, namedAbove?: StageResult): string {
  return table(
    ['Step', 'Stage', 'Type', 'Result', 'Attempts', 'Duration', 'URL'],
    result.stages.map((s) => [
      s.step === 0 ? 'on failure' : String(s.step),
      code(s.stage),
      s.type,
      // Each reason said once: the failure line's stage and skipped stages (whose reason is the failure) get none here.
      `${RESULT_ICON[s.status]}${s.reason && s !== namedAbove && s.status !== 'succeeded' && s.status !== 'skipped' ? `<br>${escapeHtml(s.reason)}` : ''}`,
      String(s.attempts),
      s.durationMs !== undefined ? formatDuration(s.durationMs) : '',
      s.publicUrl ? link(s.publicUrl) : s.url ? code(s.url) : '',
    ]),
  );
}

function serviceTable(services: ServiceInfo[]): string {
  // The public URL column only when a service has one: an empty column takes the width the long URLs need.
  const publicUrls = services.some((s) => s.publicUrl);
  return table(
    ['Stage', 'Ready', 'In-cluster URL', ...(publicUrls ? ['Public URL'] : []), 'Through <code>kubectl proxy</code>'],
    services.map((s) => [
      `${code(s.stage)}${s.rolledBack ? '<br>rolled back: the previous version' : ''}`,
      s.readyReplicas !== undefined || s.replicas !== undefined ? `${s.readyReplicas ?? 0}/${s.replicas ?? '?'}` : '',
      code(s.url),
      ...(publicUrls ? [link(s.publicUrl)] : []),
      code(s.proxyUrl),
    ]),
  );
}

/** A failed stage's Warning events as a table (pod, reason, message, count). */
function eventTable(events: StageEvent[]): string {
  return table(
    ['Object', 'Reason', 'Message', 'Count'],
    events.map((e) => [code(e.object), escapeHtml(e.reason), escapeHtml(e.message), String(e.count)]),
  );
}

/** Stages whose log lines and events a failed run's summary opens with. */
function failedStages(result: DeployResult): StageResult[] {
  return result.stages.filter((s) => (s.status === 'failed' || s.status === 'rolled-back') && ((s.logTail?.length ?? 0) > 0 || (s.events?.length ?? 0) > 0));
}

/**
 * Each failed stage's last log lines (open) and its pods' events, within `budget` bytes: the newest lines are kept,
 * and a stage that no longer fits is left out.
 */
function failureSections(result: DeployResult, budget: number): string[] {
  const sections: string[] = [];
  for (const s of failedStages(result)) {
    const parts: string[] = [];
    if (s.logTail && s.logTail.length > 0) {
      const room = Math.min(LOG_TAIL_BYTES, budget - 1024);
      if (room < 256) break;
      parts.push(`### Last log lines of ${code(s.stage)} (${s.status})\n\n${pre(underSources(lastBytes(s.logTail.join('\n'), room)))}`);
    }
    if (s.events && s.events.length > 0) parts.push(`### Kubernetes events of ${code(s.stage)}'s pods\n\n${eventTable(s.events)}`);
    const section = parts.join('\n');
    if (Buffer.byteLength(section) > budget) break;
    budget -= Buffer.byteLength(section);
    sections.push(section);
  }
  return sections;
}

/** The job summary of a deploy, under SUMMARY_LIMIT_BYTES; on failure, what went wrong comes first. */
export function renderDeploySummary(plan: DeployPlan, result: DeployResult, context: RunContext): string {
  const ok = result.status === 'success';
  const title = `## ${ok ? '✅' : '❌'} Bodywork deploy: ${escapeHtml(result.project)} ${ok ? 'succeeded' : 'failed'}\n`;
  const failure = ok ? undefined : `**Failure:** ${escapeHtml(failureLine(result))}\n`;
  const tables: string[] = [];
  tables.push(headerTable(result.project, result.namespace, context, [['Image', code(plan.image)], ['Duration', formatDuration(result.durationMs)]]));
  tables.push(renderDiagrams(plan, result));
  tables.push('### Stages\n');
  tables.push(stageTable(result, ok ? undefined : firstBadStage(result)));
  const services = serviceInfos(plan, result);
  if (services.length > 0) {
    tables.push('### Services\n');
    tables.push(serviceTable(services));
    tables.push(`Reach a service from your machine with \`kubectl proxy --port 8001\`, then open its proxy URL.\n`);
  }
  const fixed = [title, failure ?? '', ...tables].join('\n');
  const sections = ok ? [] : failureSections(result, SUMMARY_LIMIT_BYTES - Buffer.byteLength(fixed) - 2048);
  const text = [title, ...(failure !== undefined ? [failure] : []), ...sections, ...tables].join('\n');
  return Buffer.byteLength(text) > SUMMARY_LIMIT_BYTES ? truncateBytes(text, SUMMARY_LIMIT_BYTES - 1024) : text;
}

/**
 * A log tail's lines, which the engine keeps as `<pod>: <line>` (`<pod>/<container>: ` for init containers), under one
 * `── <pod> ──` line per pod instead: a 40-character pod name on every line pushed the lines themselves out of view.
 */
function underSources(text: string): string {
  const out: string[] = [];
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const cut = line.indexOf(': ');
    const source = cut > 0 && !line.slice(0, cut).includes(' ') ? line.slice(0, cut) : undefined;
    if (source === undefined) {
      out.push(line);
      continue;
    }
    if (source !== current) out.push(`── ${(current = source)} ──`);
    out.push(line.slice(cut + 2));
  }
  return out.join('\n');
}

/** The last lines of `text` within `maxBytes` (escaping grows text up to 6x, so the budget is divided). */
function lastBytes(text: string, maxBytes: number): string {
  const lines = text.split('\n');
  const kept: string[] = [];
  let size = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    const bytes = Buffer.byteLength(lines[i]) * 6 + 1;
    if (size + bytes > maxBytes) break;
    kept.unshift(lines[i]);
    size += bytes;
  }
  return kept.length < lines.length ? `… ${lines.length - kept.length} earlier lines not shown\n${kept.join('\n')}` : text;
}

/** Room for a PR comment's diagrams: GitHub cuts the comment at 65,000 characters (github.ts), which would break a fence. */
const COMMENT_DIAGRAM_BUDGET = 60_000;

/** A preview comment's first line: the project, the pull request's head commit and the workflow run, escaped. */
export function commentByline(project: string, context: RunContext): string {
  return `Project ${code(project)}${context.sha ? ` at ${code((context.pullRequest?.headSha ?? context.sha).slice(0, 12))}` : ''}${context.runUrl ? ` — <a href="${escapeHtml(context.runUrl)}">run</a>` : ''}`;
}

/** The sticky PR comment for a preview deploy (the marker is added by GitHubPreview): the same pictures as the summary. */
export function renderPreviewComment(plan: DeployPlan, result: DeployResult, context: RunContext): string {
  const ok = result.status === 'success';
  const parts = [`### ${ok ? '✅' : '❌'} Bodywork preview: ${code(result.namespace)} ${ok ? 'deployed' : 'failed'}`, '', `${commentByline(result.project, context)}.`, ''];
  if (!ok) parts.push(`**Failure:** ${escapeHtml(failureLine(result))}`, '');
  const tables = [stageTable(result)];
  const services = serviceInfos(plan, result);
  if (services.length > 0) tables.push(serviceTable(services));
  const diagrams = renderDiagrams(plan, result, '####');
  const fits = [...parts, diagrams, ...tables].join('\n').length <= COMMENT_DIAGRAM_BUDGET;
  return [...parts, fits ? diagrams : 'The DAG and timeline diagrams are in the job summary (too large for a comment).\n', ...tables].join('\n');
}

/** The PR comment once the preview is gone. */
export function renderTornDownComment(namespace: string, context: RunContext, outcome: string): string {
  return `### 🧹 Bodywork preview: ${code(namespace)} torn down\n\n${escapeHtml(outcome)}${context.runUrl ? ` — <a href="${escapeHtml(context.runUrl)}">run</a>` : ''}.\n`;
}

/** The log line and summary text of a teardown's outcome. */
export function teardownMessage(result: TeardownResult): string {
  const ns = result.namespace;
  if (result.outcome === 'absent') return `namespace=${ns} does not exist: nothing to tear down`;
  if (result.outcome === 'namespace-deleted') return `deleted namespace=${ns}`;
  return `namespace=${ns} was not created by bodywork-deploy for this project: deleted ${result.deleted.length} of its objects, kept the namespace`;
}
