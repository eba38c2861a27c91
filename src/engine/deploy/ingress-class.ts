/**
 * The class of the Ingresses a run creates when none was asked for (`--ingress-class`, the `ingress-class` input):
 * the cluster's default IngressClass (annotation `ingressclass.kubernetes.io/is-default-class: "true"`) when it has
 * one, else `nginx`, the one controller Bodywork supported (it always set `kubernetes.io/ingress.class: nginx`).
 * Looked up at deploy time, so the plan stays pure: the plan takes the class as an option, and `withIngressClass`
 * fills it in. A kubeconfig that may not list IngressClasses (403) leaves the class unset, so the API server's
 * DefaultIngressClass admission applies the cluster's default, if any: a debug line says so.
 */
import type { V1IngressClass } from '@kubernetes/client-node';
import { isKubeStatus, KubeApiError, type KubeClient } from '../kube/index.js';
import type { Logger } from '../logger.js';
import type { DeployPlan } from '../plan/index.js';
import { errorMessage } from '../errors.js';

/** Bodywork's ingress class. */
export const FALLBACK_INGRESS_CLASS = 'nginx';
/** The annotation that marks a cluster's default IngressClass. */
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';

/** Whether any Ingress of the plan (steps and run_on_failure) has no class yet. */
export function needsIngressClass(plan: DeployPlan): boolean {
  return plan.steps.some((step) => step.stages.some((s) => s.type === 'service' && s.ingress !== undefined && s.ingress.spec?.ingressClassName === undefined));
}

/**
 * The class for the plan's Ingresses: the cluster's default IngressClass, else `nginx`; `undefined` when the
 * IngressClasses cannot be listed (the cluster's own default then applies). Never throws.
 */
export async function resolveIngressClass(client: KubeClient, logger: Logger, signal?: AbortSignal): Promise<string | undefined> {
  let classes: V1IngressClass[];
  try {
    classes = (await client.list<V1IngressClass>('IngressClass', undefined, signal ? { signal } : {})).items;
  } catch (e) {
    if (e instanceof KubeApiError && e.isNotFound) {
      logger.debug(`this cluster serves no IngressClasses: ingresses get class ${FALLBACK_INGRESS_CLASS}`);
      return FALLBACK_INGRESS_CLASS;
    }
    const why = isKubeStatus(e, 403) ? 'not allowed to list IngressClasses' : `could not list IngressClasses (${errorMessage(e)})`;
    logger.debug(`${why}: ingresses get no class, so the cluster's default class applies, if it has one (set --ingress-class / ingress-class to choose)`);
    return undefined;
  }
  // Several defaults (a misconfiguration): the most recently created one, then by name, so the choice is stable.
  const created = (c: V1IngressClass) => new Date(c.metadata?.creationTimestamp ?? 0).getTime();
  const chosen = classes
    .filter((c) => c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true')
    .sort((a, b) => created(b) - created(a) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))
    .at(0)?.metadata?.name;
  if (chosen !== undefined) {
    logger.debug(`ingresses get the cluster's default class ${chosen}`);
    return chosen;
  }
  logger.debug(`the cluster has no default IngressClass: ingresses get class ${FALLBACK_INGRESS_CLASS}, as Bodywork's`);
  return FALLBACK_INGRESS_CLASS;
}

/** A copy of `plan` whose Ingresses without a class get `className` (a plan's own class is kept). */
export function withIngressClass(plan: DeployPlan, className: string): DeployPlan {
  return {
    ...plan,
    steps: plan.steps.map((step) => ({
      ...step,
      stages: step.stages.map((stage) => {
        if (stage.type !== 'service' || stage.ingress === undefined || stage.ingress.spec?.ingressClassName !== undefined) return stage;
        const ingress = { ...stage.ingress, spec: { ...stage.ingress.spec, ingressClassName: className } };
        return { ...stage, ingress, objects: stage.objects.map((o) => (o === stage.ingress ? ingress : o)) };
      }),
    })),
  };
}
