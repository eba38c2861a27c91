/** Finalizers the API server and the controllers agree on (k8s.io/api core/v1 FinalizerKubernetes, AM metav1 Finalizer*). */

/** spec.finalizers of a Namespace: the namespace controller removes it once the namespace is empty. */
export const FINALIZER_KUBERNETES = 'kubernetes';
/** Orphan deletion: the garbage collector strips the owner's references from dependents, then this finalizer. */
export const FINALIZER_ORPHAN = 'orphan';
/** Foreground deletion: the garbage collector deletes dependents first, then this finalizer. */
export const FINALIZER_FOREGROUND = 'foregroundDeletion';
