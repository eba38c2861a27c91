/**
 * `checkSecrets`: before any stage starts, every Secret key a stage of the run references must exist in the
 * namespace. Bodywork found a missing secret only when the stage's pod failed to start (or never said why);
 * here every missing secret and key is reported at once, with the config line that references it.
 */
import type { V1Secret } from '@kubernetes/client-node';
import type { ConfigProblem } from '../config/problems.js';
import type { SecretRef } from '../config/spec.js';
import type { PlannedStage } from '../plan/index.js';
import type { DeployContext } from './types.js';

/** One missing secret or key. */
export interface SecretProblem {
  /** The stage's config name. */
  stage: string;
  secret: string;
  key: string;
  namespace: string;
  /** `stage-2/config.ini:12: secret "db-creds" has no key "PASSWORD" in namespace "ml-pipeline"` */
  message: string;
  /** The same as a config problem (error), so the action can annotate the line. */
  problem: ConfigProblem;
}

export type SecretCheckContext = Pick<DeployContext, 'client' | 'plan' | 'namespace' | 'signal'>;

/** The stages of the run: the plan's steps and the run_on_failure stage. */
export function runStages(plan: SecretCheckContext['plan']): PlannedStage[] {
  return [...plan.steps.flatMap((s) => s.stages), ...(plan.onFailure ? [plan.onFailure] : [])];
}

/** Every secret key the run's stages reference, with the stage (config name), in stage order. */
export function runSecretRefs(plan: SecretCheckContext['plan']): { stage: string; ref: SecretRef }[] {
  return runStages(plan).flatMap((stage) => stage.spec.secrets.map((ref) => ({ stage: stage.stage, ref })));
}

/** `stage-2/config.ini:12`, where a secret reference was written. */
export function secretRefSource(ref: SecretRef): string {
  return ref.source.line !== undefined ? `${ref.source.file}:${ref.source.line}` : ref.source.file;
}

/**
 * Why Secret `name` (`secret`: as read, undefined when missing) cannot give `key` (or, without a key, cannot be
 * used at all), as the kubelet would fail on it; undefined when it can. Looks at key names only, never values.
 */
export function secretRefProblem(name: string, key: string | undefined, secret: Pick<V1Secret, 'data' | 'stringData'> | undefined, namespace: string): string | undefined {
  if (secret === undefined) return `secret "${name}"${key !== undefined ? ` (for key "${key}")` : ''} does not exist in namespace "${namespace}"`;
  if (key !== undefined && !Object.hasOwn(secret.data ?? {}, key) && !Object.hasOwn(secret.stringData ?? {}, key)) return `secret "${name}" has no key "${key}" in namespace "${namespace}"`;
  return undefined;
}

/**
 * Reads every Secret the run's stages reference (each once) and returns one problem per missing secret or key,
 * in stage order; an empty list when all exist. API errors other than 404 (no permission to read secrets, …)
 * are thrown.
 */
export async function checkSecrets(ctx: SecretCheckContext): Promise<SecretProblem[]> {
  const refs = runSecretRefs(ctx.plan);
  const names = [...new Set(refs.map((r) => r.ref.secret))];
  const found = new Map<string, V1Secret | undefined>();
  await Promise.all(
    names.map(async (name) => {
      found.set(name, await ctx.client.find<V1Secret>('Secret', ctx.namespace, name, { signal: ctx.signal }));
    }),
  );
  const problems: SecretProblem[] = [];
  for (const { stage, ref } of refs) {
    const text = secretRefProblem(ref.secret, ref.key, found.get(ref.secret), ctx.namespace);
    if (text === undefined) continue;
    problems.push({
      stage,
      secret: ref.secret,
      key: ref.key,
      namespace: ctx.namespace,
      message: `${secretRefSource(ref)}: ${text}`,
      problem: { severity: 'error', file: ref.source.file, ...(ref.source.line !== undefined ? { line: ref.source.line } : {}), message: text },
    });
  }
  return problems;
}
