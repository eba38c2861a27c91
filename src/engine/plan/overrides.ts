/**
 * Applies the overrides file (config/overrides.ts) to the planned pod templates of Jobs and Deployments, with
 * Kubernetes' strategic merge (kube/strategic-merge.ts): the defaults first, then the stage's own. Maps merge key by
 * key; `env`, `volumes` and `containers` merge by name, `volumeMounts` by mountPath; other lists (`tolerations`,
 * `envFrom`, ...) are replaced whole, so a stage's tolerations replace the defaults'.
 *
 * The config check has refused whatever the deployer depends on (override-contract.ts); the result is checked once more
 * here, so a spec built in code cannot break it either.
 */
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import type { PodOverride, ProjectSpec } from '../config/spec.js';
import { deepEqual, isPlainObject, listSchema, strategicMerge } from '../kube/strategic-merge.js';
import type { DeployPlan, PlannedStage } from './types.js';

/** What the overrides set in one stage's pod (for `plan` and the summaries). */
export interface StageOverrideSummary {
  stage: string;
  /** Where its overrides come from: the file's `defaults`, the stage's own entry, or both (in merge order). */
  from: ('defaults' | 'stage')[];
  /** The fields set, as `pod.nodeSelector[accelerator]`, `container.resources.limits[nvidia.com/gpu]`, `pod.tolerations`. */
  sets: string[];
}

/** The overrides of `stage`, in merge order. */
function overridesOf(spec: Pick<ProjectSpec, 'overrides'>, stage: string): { from: 'defaults' | 'stage'; override: PodOverride }[] {
  const o = spec.overrides;
  if (o === undefined) return [];
  const out: { from: 'defaults' | 'stage'; override: PodOverride }[] = [];
  if (o.defaults !== undefined && (o.defaults.pod !== undefined || o.defaults.container !== undefined)) out.push({ from: 'defaults', override: o.defaults });
  const own = o.stages[stage];
  if (own !== undefined && (own.pod !== undefined || own.container !== undefined)) out.push({ from: 'stage', override: own });
  return out;
}

/** The strategic merge patch of a pod template that one override makes; the stage container is `containerName`. */
function templatePatch(o: PodOverride, containerName: string): Record<string, unknown> {
  const { metadata, ...podSpec } = o.pod ?? {};
  const spec: Record<string, unknown> = { ...podSpec };
  if (o.container !== undefined) spec.containers = [{ ...o.container, name: containerName }];
  return { ...(metadata !== undefined ? { metadata } : {}), ...(Object.keys(spec).length > 0 ? { spec } : {}) };
}

/**
 * `template` with the stage's overrides merged in (the same object when the stage has none). Throws when the result
 * breaks the deployer's contract (only possible for a spec that skipped the config check).
 */
export function applyPodOverrides(spec: Pick<ProjectSpec, 'overrides'>, stage: string, template: V1PodTemplateSpec): V1PodTemplateSpec {
  const overrides = overridesOf(spec, stage);
  if (overrides.length === 0) return template;
  const main = template.spec?.containers[0];
  if (main === undefined) throw new Error(`internal error: stage '${stage}' has no container to override`);
  let merged: unknown = template;
  for (const { override } of overrides) merged = strategicMerge(merged, templatePatch(override, main.name), ['spec', 'template']);
  const result = merged as V1PodTemplateSpec;
  const broken = contractBreaks(template, result);
  if (broken !== undefined) throw new Error(`the pod overrides of stage '${stage}' change ${broken}, which the deployer owns (override-contract.ts)`);
  return result;
}

/** The first part of the planned template the merge changed that the contract protects, if any. */
function contractBreaks(before: V1PodTemplateSpec, after: V1PodTemplateSpec): string | undefined {
  for (const [k, v] of Object.entries(before.metadata?.labels ?? {})) if (after.metadata?.labels?.[k] !== v) return `the label ${k}`;
  for (const [k, v] of Object.entries(before.metadata?.annotations ?? {})) if (after.metadata?.annotations?.[k] !== v) return `the annotation ${k}`;
  const a = after.spec;
  const b = before.spec;
  if (a === undefined || b === undefined) return 'the pod spec';
  for (const field of ['restartPolicy', 'activeDeadlineSeconds', 'initContainers'] as const) if (!deepEqual(a[field], b[field])) return field;
  if (a.containers.length !== b.containers.length) return 'the containers';
  const [ca, cb] = [a.containers[0], b.containers[0]];
  for (const field of ['name', 'image', 'command', 'args', 'readinessProbe', 'startupProbe', 'livenessProbe'] as const) if (!deepEqual(ca[field], cb[field])) return `the container's ${field}`;
  for (const r of ['cpu', 'memory']) if (ca.resources?.requests?.[r] !== cb.resources?.requests?.[r]) return `the ${r} request`;
  for (const v of b.volumes ?? []) if (!deepEqual(a.volumes?.find((x) => x.name === v.name), v)) return `the volume ${v.name}`;
  for (const m of cb.volumeMounts ?? []) if (!deepEqual(ca.volumeMounts?.find((x) => x.mountPath === m.mountPath), m)) return `the mount ${m.mountPath}`;
  for (const e of cb.env ?? []) if (!deepEqual(ca.env?.find((x) => x.name === e.name), e)) return `the environment variable ${e.name}`;
  return undefined;
}

/** The fields an override block of `scope` sets, one level into maps and keyed lists (`pod.nodeSelector[accelerator]`). */
function fieldsSet(scope: 'pod' | 'container', block: Record<string, unknown>): string[] {
  const out: string[] = [];
  const keyed = (field: string) => {
    const schema = listSchema(['spec', 'template', 'spec', ...(scope === 'container' ? ['containers'] : []), field]);
    return schema.type === 'map' ? schema.keys[0] : undefined;
  };
  for (const [field, value] of Object.entries(block)) {
    const here = `${scope}.${field}`;
    if (field === 'metadata' || field === 'resources') {
      for (const [sub, map] of Object.entries(value as Record<string, unknown>)) {
        for (const k of Object.keys(isPlainObject(map) ? map : {})) out.push(`${here}.${sub}[${k}]`);
      }
    } else if (field === 'nodeSelector' && isPlainObject(value)) {
      for (const k of Object.keys(value)) out.push(`${here}[${k}]`);
    } else if (Array.isArray(value) && keyed(field) !== undefined) {
      const key = keyed(field) as string;
      for (const item of value) out.push(`${here}[${String((item as Record<string, unknown>)[key])}]`);
    } else {
      out.push(here);
    }
  }
  return out;
}

/** What the overrides set in each planned stage's pod, in plan order; stages without overrides are left out. */
export function summarizeOverrides(spec: Pick<ProjectSpec, 'overrides'>, stages: PlannedStage[]): StageOverrideSummary[] {
  const out: StageOverrideSummary[] = [];
  for (const { stage } of stages) {
    const overrides = overridesOf(spec, stage);
    if (overrides.length === 0) continue;
    const sets = new Set<string>();
    for (const { override } of overrides) {
      for (const f of fieldsSet('pod', override.pod ?? {})) sets.add(f);
      for (const f of fieldsSet('container', override.container ?? {})) sets.add(f);
    }
    out.push({ stage, from: overrides.map((o) => o.from), sets: [...sets] });
  }
  return out;
}

/** The plan's `overrides` entry: the file and each overridden stage (the run_on_failure stage included), or nothing. */
export function planOverrides(spec: Pick<ProjectSpec, 'overrides'>, plan: Pick<DeployPlan, 'steps' | 'onFailure'>): Pick<DeployPlan, 'overrides'> {
  if (spec.overrides === undefined) return {};
  const stages = [...plan.steps.flatMap((s) => s.stages), ...(plan.onFailure !== undefined ? [plan.onFailure] : [])];
  return { overrides: { file: spec.overrides.file, stages: summarizeOverrides(spec, stages) } };
}
