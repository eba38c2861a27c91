/**
 * Pod Security admission, seen from the deployer: a namespace labelled `pod-security.kubernetes.io/enforce=<level>`
 * rejects pods that violate the level, but a Job or Deployment holding such pods is created all the same; only a
 * `Warning` header says `would violate PodSecurity "<level>:<version>": ...`. Its controller then fails to create the
 * pods over and over. Matching that warning against the namespace's enforced level lets a stage fail at once, naming
 * the policy, instead of waiting for a pod that never comes. (A level enforced by the cluster's admission defaults
 * rather than a namespace label is not seen here; the Deployment's ReplicaFailure still catches services.)
 */
export const ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';

/** The namespace's enforced level, when it restricts anything (`baseline`, `restricted`). */
export function enforcedLevel(labels: Record<string, string> | undefined): string | undefined {
  const level = labels?.[ENFORCE_LABEL];
  return level && level !== 'privileged' ? level : undefined;
}

/** The warning saying the pods would be rejected by the enforced `level`, or undefined. */
export function enforcedViolation(warnings: readonly string[], level: string | undefined): string | undefined {
  if (!level) return undefined;
  return warnings.find((w) => w.startsWith(`would violate PodSecurity "${level}:`));
}

/** One line for a stage's failure: `namespace=ns enforces Pod Security "restricted:latest": <what> (Job x deleted)`. */
export function podSecurityReason(namespace: string, warning: string): string {
  const m = /^would violate PodSecurity ("[^"]*"): ([\s\S]*)$/.exec(warning);
  return m ? `namespace=${namespace} enforces Pod Security ${m[1]}, which rejects the stage's pods: ${m[2]}` : `namespace=${namespace}: ${warning}`;
}
