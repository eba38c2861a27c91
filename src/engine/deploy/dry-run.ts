/**
 * `checkOnServer` (`plan --server`, the action's `command: plan` with a kubeconfig): every object a deploy of the plan
 * would write, sent to the API server as the deploy sends it (create or server-side apply) with `dryRun=All`, so
 * defaulting, the schema, admission (quotas, webhooks, Pod Security) and the caller's RBAC are the real server's.
 * Every refusal is collected (not only the first), each with the object and the server's message, and each accepted
 * object gets a diff against the live one (dry-run-diff.ts). Nothing is written: besides the dry runs, only reads.
 *
 * The Secrets the run needs are checked too (dry-run-secrets.ts): a missing one fails the check, as it would the deploy.
 *
 * Not checked: the deploy lock's Lease (a short-lived coordination object, created and deleted by every run).
 */
import type { KubernetesObject, V1Job, V1Namespace } from '@kubernetes/client-node';
import { KubeApiError, type KubeClient, type Manifest } from '../kube/index.js';
import type { Logger } from '../logger.js';
import { LABEL_PART_OF, LABEL_PREVIEW_PR, type DeployPlan, type PlannedObject } from '../plan/index.js';
import { redact } from '../redact.js';
import { diffFileName, objectDiff, type ServerObject } from './dry-run-diff.js';
import { checkPlanSecrets, type MissingSecret } from './dry-run-secrets.js';
import { needsIngressClass, resolveIngressClass, withIngressClass } from './ingress-class.js';
import type { SecretValues } from './input-secrets.js';
import { enforcedLevel, enforcedViolation, podSecurityReason } from './pod-security.js';
import { errorMessage } from '../errors.js';

export interface ServerCheckOptions {
  client: KubeClient;
  logger: Logger;
  plan: DeployPlan;
  /** The Secrets the deploy would apply from values (the action's `secrets`, `--secret`): checked, never printed. */
  secrets?: SecretValues[];
  signal?: AbortSignal;
}

/**
 * What the server said about one object: `create` / `update` (accepted; `diff` says how), `unchanged` (accepted, or
 * left alone by a deploy, and the same as live), `refused` (`message` is the server's), `unchecked` (`message` says why).
 */
export type CheckOutcome = 'create' | 'update' | 'unchanged' | 'refused' | 'unchecked';

export interface ObjectCheck {
  kind: string;
  name: string;
  namespace?: string;
  /** `Deployment ml/api`, `Namespace ml`. */
  object: string;
  outcome: CheckOutcome;
  /** The server's refusal (or why the object was not checked), as the server wrote it: untrusted text. */
  message?: string;
  /** The Status reason of a refusal (`Invalid`, `Forbidden`, `AlreadyExists`, ...). */
  reason?: string;
  /** `Warning` headers of the dry run (deprecations, Pod Security levels not enforced). */
  warnings: string[];
  /** Unified diff, live -> dry-run result ('' when nothing changes). Secret values are masked. */
  diff: string;
  /** For a per-run Job: the stage's latest Job it was compared with, when there is one. */
  comparedWith?: string;
}

export interface ServerCheckResult {
  namespace: string;
  /** Whether the namespace existed. When not, the namespaced objects could not be checked (see `checkOnServer`). */
  namespaceExists: boolean;
  /** Every object, in the order the deploy writes them. */
  objects: ObjectCheck[];
  refused: ObjectCheck[];
  unchecked: ObjectCheck[];
  /** Secrets (or keys) the run needs that the namespace lacks (dry-run-secrets.ts). */
  missingSecrets: MissingSecret[];
  /** Why the Secrets were not checked, when they could not be read. */
  secretsUnchecked?: string;
  /** No refusal, no missing Secret. */
  ok: boolean;
}

/** How the deploy writes an object: server-side apply, create, create only when missing, or leave an existing one alone. */
type WriteMode = 'apply' | 'create' | 'create-if-missing';

interface Write {
  obj: PlannedObject | Manifest;
  mode: WriteMode;
  /** A per-run Job of a stage: compared with the stage's latest Job (this selector). */
  jobSelector?: string;
}

function describe(obj: KubernetesObject): string {
  const ns = obj.metadata?.namespace;
  return `${obj.kind} ${ns ? `${ns}/` : ''}${obj.metadata?.name ?? ''}`;
}

function secretManifest(s: SecretValues, namespace: string, labels: Record<string, string>): Manifest {
  // As input-secrets.ts applies it.
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: s.type ?? 'Opaque',
    metadata: { name: s.name, namespace, labels },
    data: Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')])),
  } as Manifest;
}

/** The writes of a deploy of `plan`, in its order (namespace.ts, input-secrets.ts, the stage runners). */
function deployWrites(plan: DeployPlan, secrets: SecretValues[]): Write[] {
  const ns = plan.namespace;
  const project = plan.labels[LABEL_PART_OF];
  const writes: Write[] = [];
  for (const o of plan.setup) {
    if (o.kind === 'Namespace') writes.push({ obj: o, mode: 'create-if-missing' });
    else if (o.kind === 'ConfigMap') writes.push({ obj: o, mode: 'create-if-missing' });
    else writes.push({ obj: o, mode: 'apply' });
  }
  for (const s of secrets) writes.push({ obj: secretManifest(s, ns, plan.labels), mode: 'apply' });
  const stages = [...plan.steps.flatMap((s) => s.stages), ...(plan.onFailure ? [plan.onFailure] : [])];
  for (const stage of stages) {
    // The service runner applies the Service and Ingress before the Deployment.
    const ordered = stage.type === 'service' ? [stage.service, ...(stage.ingress ? [stage.ingress] : []), stage.deployment] : stage.objects;
    for (const o of ordered) {
      if (o.kind === 'Job') {
        const selector = Object.entries({ ...stage.selector, ...(project ? { [LABEL_PART_OF]: project } : {}) })
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
        writes.push({ obj: o, mode: 'create', jobSelector: selector });
      } else writes.push({ obj: o, mode: 'apply' });
    }
  }
  return writes;
}

function errorText(e: unknown): string {
  if (e instanceof KubeApiError) return e.serverMessage ?? e.message;
  return errorMessage(e);
}

/**
 * Submits every object a deploy of `options.plan` would write with `dryRun=All` and reports what the server said,
 * object by object. Never writes. Throws only for failures of the namespace read (no cluster, no permission).
 *
 * A namespace that does not exist yet: its Namespace is dry-run created, but the real API server refuses every
 * namespaced dry run there with NotFound (its NamespaceLifecycle admission runs before validation and a dry run
 * creates no namespace), so those objects are reported `unchecked`, shown as all-added, and are checked by the
 * server once the namespace exists (the deploy creates it first; `plan --server` after it was created checks all).
 */
export async function checkOnServer(options: ServerCheckOptions): Promise<ServerCheckResult> {
  const { client, logger, signal } = options;
  let plan = options.plan;
  // The deploy gives class-less Ingresses the cluster's default class (ingress-class.ts): so does the check.
  if (needsIngressClass(plan)) {
    const className = await resolveIngressClass(client, logger, signal);
    if (className !== undefined) plan = withIngressClass(plan, className);
  }
  const namespace = plan.namespace;
  const call = signal ? { signal } : {};
  const liveNamespace = await client.find<V1Namespace>('Namespace', undefined, namespace, call);
  const namespaceExists = liveNamespace !== undefined;
  const podSecurity = enforcedLevel(liveNamespace?.metadata?.labels);

  const check = async (write: Write): Promise<ObjectCheck> => {
    const obj = write.obj as Manifest;
    const kind = obj.kind ?? 'object';
    const name = obj.metadata?.name ?? '';
    const objNs = kind === 'Namespace' ? undefined : (obj.metadata?.namespace ?? namespace);
    const base = { kind, name, ...(objNs !== undefined ? { namespace: objNs } : {}), object: describe({ ...obj, metadata: { ...obj.metadata, ...(objNs ? { namespace: objNs } : {}) } }), warnings: [] as string[] };
    const fileName = diffFileName({ apiVersion: obj.apiVersion, kind, namespace: objNs, name });
    const result = (fields: Pick<ObjectCheck, 'outcome'> & Partial<ObjectCheck>): ObjectCheck => ({ ...base, diff: '', ...fields, ...(fields.message !== undefined ? { message: redact(fields.message) } : {}) });

    // The live object (for a per-run Job, the stage's latest Job).
    let live: ServerObject | undefined;
    let comparedWith: string | undefined;
    try {
      if (kind === 'Namespace') live = liveNamespace as ServerObject | undefined;
      else if (!namespaceExists) live = undefined;
      else if (write.jobSelector !== undefined) {
        const jobs = (await client.list<V1Job>('Job', objNs, { labelSelector: write.jobSelector, ...call })).items;
        const created = (j: V1Job) => new Date(j.metadata?.creationTimestamp ?? 0).getTime();
        const latest = jobs.filter((j) => j.metadata?.name !== name).sort((a, b) => created(b) - created(a) || (b.metadata?.name ?? '').localeCompare(a.metadata?.name ?? ''))[0];
        live = latest as ServerObject | undefined;
        comparedWith = latest?.metadata?.name;
      } else live = await client.find<KubernetesObject>({ apiVersion: obj.apiVersion!, kind }, objNs, name, call) as ServerObject | undefined;
    } catch (e) {
      return result({ outcome: 'unchecked', message: `could not read the live object: ${errorText(e)}` });
    }
    const job = write.jobSelector !== undefined;
    const extra = comparedWith !== undefined ? { comparedWith } : {};

    // What the deploy leaves alone is not sent: an existing namespace (but a preview label it lacks, as namespace.ts
    // adds it) and an existing code ConfigMap (immutable, named by its content).
    let toSend: Manifest | undefined = obj;
    let mode = write.mode;
    if (write.mode === 'create-if-missing' && live !== undefined) {
      toSend = kind === 'Namespace' ? previewRelabel(plan, live, obj) : undefined;
      mode = 'apply';
      if (toSend === undefined) return result({ outcome: 'unchanged', ...extra });
    }
    if (objNs !== undefined && !namespaceExists) {
      return result({ outcome: 'unchecked', message: `namespace ${namespace} does not exist yet`, diff: objectDiff(fileName, undefined, obj as ServerObject, { job }) });
    }
    const warnings: string[] = [];
    let answer: ServerObject;
    try {
      const send = { ...toSend, metadata: { ...toSend.metadata, ...(objNs !== undefined ? { namespace: objNs } : {}) } } as Manifest;
      answer = (mode === 'apply' ? await client.apply(send, { dryRun: true, warnings, ...call }) : await client.create(send, { dryRun: true, warnings, ...call })) as ServerObject;
    } catch (e) {
      if (signal?.aborted) throw e;
      return result({ outcome: 'refused', message: errorText(e), ...(e instanceof KubeApiError && e.reason ? { reason: e.reason } : {}), warnings: warnings.map(redact), ...extra });
    }
    // Pod Security admits a Job or Deployment whose pods it will refuse, with only a warning (pod-security.ts): for a
    // level the namespace enforces, that is a refusal of everything the stage would run.
    const violation = enforcedViolation(warnings, podSecurity);
    if (violation !== undefined) return result({ outcome: 'refused', reason: 'PodSecurity', message: podSecurityReason(namespace, violation), warnings: warnings.map(redact), ...extra });
    const diff = objectDiff(fileName, live, answer, { job });
    const outcome: CheckOutcome = live === undefined ? 'create' : diff === '' ? 'unchanged' : 'update';
    return result({ outcome, diff, warnings: warnings.map(redact), ...extra });
  };

  // One object at a time, in the deploy's order: a plan holds tens of objects, and a shared API server need not see a burst.
  const objects: ObjectCheck[] = [];
  for (const write of deployWrites(plan, options.secrets ?? [])) objects.push(await check(write));
  const refused = objects.filter((o) => o.outcome === 'refused');
  const unchecked = objects.filter((o) => o.outcome === 'unchecked');
  for (const o of refused) logger.debug(`the API server refuses ${o.object}: ${o.message ?? ''}`);
  const secrets = await checkPlanSecrets(client, plan, options.secrets ?? [], namespaceExists, signal);
  const missingSecrets = secrets.missing.map((m) => ({ ...m, message: redact(m.message), usedBy: redact(m.usedBy) }));
  return {
    namespace,
    namespaceExists,
    objects,
    refused,
    unchecked,
    missingSecrets,
    ...(secrets.unchecked !== undefined ? { secretsUnchecked: redact(secrets.unchecked) } : {}),
    ok: refused.length === 0 && missingSecrets.length === 0,
  };
}

/** The label-only Namespace apply a deploy makes on an existing preview namespace of ours that lacks its preview label. */
function previewRelabel(plan: DeployPlan, live: ServerObject, planned: Manifest): Manifest | undefined {
  const want = { labels: planned.metadata?.labels ?? {}, annotations: planned.metadata?.annotations ?? {} };
  if (!(LABEL_PREVIEW_PR in want.labels)) return undefined;
  const meta = live.metadata as { labels?: Record<string, string>; annotations?: Record<string, string> } | undefined;
  const have = { labels: meta?.labels ?? {}, annotations: meta?.annotations ?? {} };
  const ours = Object.entries(plan.labels).every(([k, v]) => have.labels[k] === v);
  const missing = Object.entries(want.labels).some(([k, v]) => have.labels[k] !== v) || Object.entries(want.annotations).some(([k, v]) => have.annotations[k] !== v);
  return ours && missing ? ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: plan.namespace, labels: want.labels, annotations: want.annotations } } as Manifest) : undefined;
}
