/**
 * Renders a plan as a YAML stream (`---` separated), every object in apply order, for `kubectl apply -f -`
 * or review. A comment before each step's first object says which step and stages follow.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { LABEL_CODE_HASH } from './bundle.js';
import { planObjects } from './plan.js';
import type { DeployPlan, PlannedObject } from './types.js';

export interface RenderOptions {
  /** Print the project files held in the code ConfigMaps (for `kubectl apply`); by default each is only described. */
  codeContents?: boolean;
}

function describeFile(content: Buffer): string {
  return `<file content not shown: ${content.length} bytes, sha256 ${createHash('sha256').update(content).digest('hex')}>`;
}

/** A code ConfigMap with each file replaced by its size and hash, so printing a plan never prints the project's files. */
export function withoutCode<T extends { kind?: string; metadata?: { labels?: Record<string, string> } }>(object: T): T {
  if (object.kind !== 'ConfigMap' || object.metadata?.labels?.[LABEL_CODE_HASH] === undefined || !('data' in object || 'binaryData' in object)) return object;
  const cm = object as { data?: Record<string, string>; binaryData?: Record<string, string> };
  const map = (values: Record<string, string> | undefined, decode: (v: string) => Buffer) =>
    values === undefined ? undefined : Object.fromEntries(Object.entries(values).map(([k, v]) => [k, describeFile(decode(v))]));
  const data = map(cm.data, (v) => Buffer.from(v, 'utf8'));
  const binaryData = map(cm.binaryData, (v) => Buffer.from(v, 'base64'));
  return { ...object, ...(data !== undefined ? { data } : {}), ...(binaryData !== undefined ? { binaryData } : {}) } as T;
}

function toYaml(object: PlannedObject, options: RenderOptions): string {
  // lineWidth 0: never fold long strings (scripts, base64), so the output diffs line by line.
  return stringify(options.codeContents === true ? object : withoutCode(object), { lineWidth: 0, aliasDuplicateObjects: false });
}

/** The plan's objects in apply order, as printed: the code ConfigMaps' files described (size, sha256) unless `codeContents`. */
export function displayObjects(plan: DeployPlan, options: RenderOptions = {}): PlannedObject[] {
  return planObjects(plan).map((o) => (options.codeContents === true ? o : withoutCode(o)));
}

/**
 * The plan's objects as one YAML stream, set-up objects first, then step by step (the run_on_failure stage is not
 * included). The code ConfigMaps' files are described (size, sha256), not printed, unless `codeContents`.
 */
export function renderPlanYaml(plan: DeployPlan, options: RenderOptions = {}): string {
  const docs: string[] = plan.setup.map((o) => toYaml(o, options));
  const total = plan.steps.length;
  for (const [n, step] of plan.steps.entries()) {
    const heading = `# step ${n + 1}/${total} (DAG step ${step.index}): ${step.stages.map((s) => `${s.stage} (${s.type})`).join(', ')}\n`;
    step.stages
      .flatMap((stage) => stage.objects)
      .forEach((object, i) => docs.push(`${i === 0 ? heading : ''}${toYaml(object, options)}`));
  }
  if (docs.length !== planObjects(plan).length) throw new Error('internal error: rendered objects differ from the plan');
  return docs.map((doc) => `---\n${doc}`).join('');
}
