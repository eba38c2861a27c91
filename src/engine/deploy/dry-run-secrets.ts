/**
 * The Secrets a deploy of the plan needs, checked by `plan --server` beside the objects: the stages' `[secrets]`
 * keys (named with their config line), the image pull secrets, and every other Secret the planned pods reference
 * (an override's `envFrom` or `secretKeyRef`, a secret volume, the git code source's token). Each missing Secret, or
 * missing key, is a problem, as the deploy (or the kubelet, at the pod's start) would fail on it; optional references
 * are not. Secrets the deploy writes from values count, with their keys. Only names, keys and types are read into
 * the report, never a value.
 */
import type { V1PodSpec, V1Secret } from '@kubernetes/client-node';
import type { KubeClient } from '../kube/index.js';
import type { DeployPlan } from '../plan/index.js';
import { errorMessage } from '../errors.js';
import type { SecretValues } from './input-secrets.js';
import { pullSecretProblem } from './pull-secrets.js';
import { runSecretRefs, runStages, secretRefProblem, secretRefSource } from './secrets.js';

/** A Secret the deploy needs that it would not find (or not use). */
export interface MissingSecret {
  secret: string;
  /** The key, when the reference names one. */
  key?: string;
  /** What needs it: `stage train (train/config.ini:12)`, `Job ml/train-x`. */
  usedBy: string;
  /** Why it would fail: `secret "db" has no key "PASSWORD" in namespace "ml"`. */
  message: string;
}

export interface SecretsCheck {
  missing: MissingSecret[];
  /** Why the Secrets could not be read (no permission): they were not checked. */
  unchecked?: string;
}

interface Ref {
  secret: string;
  key?: string;
  usedBy: string;
  pull?: boolean;
}

/** The non-optional Secret references of one pod spec: env, envFrom, volumes, image pull secrets. */
function podRefs(pod: V1PodSpec, usedBy: string): Ref[] {
  const refs: Ref[] = [];
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    for (const e of c.env ?? []) {
      const r = e.valueFrom?.secretKeyRef;
      if (r?.name && r.optional !== true) refs.push({ secret: r.name, key: r.key, usedBy });
    }
    for (const f of c.envFrom ?? []) if (f.secretRef?.name && f.secretRef.optional !== true) refs.push({ secret: f.secretRef.name, usedBy });
  }
  for (const v of pod.volumes ?? []) {
    const s = v.secret;
    if (s?.secretName === undefined || s.optional === true) continue;
    const keys = (s.items ?? []).map((i) => i.key);
    if (keys.length === 0) refs.push({ secret: s.secretName, usedBy });
    for (const key of keys) refs.push({ secret: s.secretName, key, usedBy });
  }
  for (const p of pod.imagePullSecrets ?? []) if (p.name) refs.push({ secret: p.name, usedBy, pull: true });
  return refs;
}

/** Every reference of the run, the stages' `[secrets]` first (with their config lines), each (secret, key, user) once. */
function planRefs(plan: DeployPlan): Ref[] {
  const stageRefs = runSecretRefs(plan).map(({ stage, ref }) => ({ secret: ref.secret, key: ref.key, usedBy: `stage ${stage} (${secretRefSource(ref)})`, stage }));
  const refs: Ref[] = [...stageRefs];
  for (const stage of runStages(plan)) {
    for (const o of stage.objects) {
      const pod = (o as { spec?: { template?: { spec?: V1PodSpec } } }).spec?.template?.spec;
      if (pod === undefined) continue;
      const usedBy = `${o.kind} ${plan.namespace}/${o.metadata?.name ?? ''}`;
      // A `[secrets]` key is in the pod as a secretKeyRef: reported once, with its config line.
      const fromConfig = (r: Ref) => stageRefs.some((s) => s.stage === stage.stage && s.secret === r.secret && s.key === r.key && !r.pull);
      refs.push(...podRefs(pod, usedBy).filter((r) => !fromConfig(r)));
    }
  }
  const seen = new Set<string>();
  return refs.filter((r) => {
    const id = JSON.stringify([r.secret, r.key ?? null, r.usedBy, r.pull === true]);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/**
 * Checks the Secrets the run needs in `plan.namespace` (missing when the namespace does not exist), `given` counting
 * as written with their keys and types. Reads Secrets only; a failed read is reported as `unchecked`.
 */
export async function checkPlanSecrets(client: KubeClient, plan: DeployPlan, given: SecretValues[], namespaceExists: boolean, signal?: AbortSignal): Promise<SecretsCheck> {
  const refs = planRefs(plan);
  const names = [...new Set(refs.map((r) => r.secret))];
  const found = new Map<string, Pick<V1Secret, 'type' | 'data'> | undefined>();
  try {
    for (const name of names) {
      const live = namespaceExists ? await client.find<V1Secret>('Secret', plan.namespace, name, signal ? { signal } : {}) : undefined;
      const value = given.find((g) => g.name === name);
      // Key names only: the values are never kept.
      const keys = [...Object.keys(live?.data ?? {}), ...Object.keys(live?.stringData ?? {}), ...Object.keys(value?.data ?? {})];
      found.set(name, live === undefined && value === undefined ? undefined : { type: value?.type ?? live?.type ?? 'Opaque', data: Object.fromEntries(keys.map((k) => [k, ''])) });
    }
  } catch (e) {
    if (signal?.aborted) throw e;
    return { missing: [], unchecked: `could not read the Secrets the plan references in namespace ${plan.namespace}: ${errorMessage(e)}` };
  }
  // One problem per missing Secret or key, naming everything that needs it.
  const missing = new Map<string, MissingSecret>();
  for (const r of refs) {
    const secret = found.get(r.secret);
    const message = r.pull ? pullSecretProblem(r.secret, secret, plan.namespace) : secretRefProblem(r.secret, r.key, secret, plan.namespace);
    if (message === undefined) continue;
    const known = missing.get(message);
    if (known !== undefined) known.usedBy = `${known.usedBy}, ${r.usedBy}`;
    else missing.set(message, { secret: r.secret, ...(r.key !== undefined ? { key: r.key } : {}), usedBy: r.usedBy, message });
  }
  return { missing: [...missing.values()] };
}
