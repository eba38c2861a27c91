/** The Lease strategy. */
import type { KubeObject } from '../../types.js';

/** An empty spec. */
export function defaultLease(obj: KubeObject): void {
  obj.spec ??= {};
}
