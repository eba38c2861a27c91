/**
 * Owner references and adoption (K pkg/controller/controller_ref_manager.go ClaimObject; AM pkg/apis/meta/v1
 * GetControllerOf, NewControllerRef). One ClaimPods for the ReplicaSet, Deployment and Job controllers.
 */
import type { ClusterStore, KubeObject, OwnerReference, ResourceKey } from '../types.js';
import { isNotFound } from './errors.js';
import { selectorMatches, type LabelSelector } from './labels.js';

/** GetControllerOf: the owner reference with `controller: true`. */
export function controllerRef(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** NewControllerRef: `owner` as the controlling owner of a dependent. */
export function ownerRefTo(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name!,
    uid: owner.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * The keys (`ns/name`) of the controllers of kind `ownerKind` (stored under `ownerKey`) that should look at
 * `obj`: its controller, or when it has none, every owner-kind object whose selector matches it (adoption),
 * as upstream's resolveControllerRef / getReplicaSetsForPod do.
 */
export function controllersOf(store: ClusterStore, obj: KubeObject, ownerKind: string, ownerKey: ResourceKey): string[] {
  const ns = obj.metadata.namespace!;
  const ref = controllerRef(obj);
  if (ref) return ref.kind === ownerKind ? [`${ns}/${ref.name}`] : [];
  return store
    .list(ownerKey, ns)
    .items.filter((owner) => selectorMatches(owner.spec?.selector, obj.metadata.labels))
    .map((owner) => `${ns}/${owner.metadata.name}`);
}

export interface ClaimOptions {
  /**
   * Whether a controlled object that stopped matching the selector is released (upstream, the default). The Job
   * controller keeps every pod it created, matching or not (false).
   */
  release?: boolean;
}

/**
 * ClaimObject over `candidates` (objects of `resource` in the owner's namespace): the ones `owner` controls and
 * that match `selector`, after adopting matching orphans and releasing controlled ones that no longer match. An
 * owner being deleted neither adopts nor releases. An object gone meanwhile is skipped; other write failures throw
 * (the caller's sync is retried).
 */
export function claimObjects(
  store: ClusterStore,
  resource: ResourceKey,
  owner: KubeObject,
  selector: LabelSelector | undefined,
  candidates: KubeObject[],
  opts: ClaimOptions = {},
): KubeObject[] {
  const release = opts.release ?? true;
  const uid = owner.metadata.uid;
  const deleting = !!owner.metadata.deletionTimestamp;
  const out: KubeObject[] = [];
  const write = (obj: KubeObject, ownerReferences: OwnerReference[] | null): KubeObject | undefined => {
    try {
      return store.patch(resource, obj.metadata.namespace, obj.metadata.name!, 'merge', { metadata: { ownerReferences } });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  for (const obj of candidates) {
    const ref = controllerRef(obj);
    const matches = selectorMatches(selector, obj.metadata.labels);
    if (ref) {
      if (ref.uid !== uid) continue;
      if (matches || !release) out.push(obj);
      else if (!deleting) {
        const refs = (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
        write(obj, refs.length ? refs : null);
      }
      continue;
    }
    if (!matches || deleting || obj.metadata.deletionTimestamp) continue;
    const adopted = write(obj, [...(obj.metadata.ownerReferences ?? []), ownerRefTo(owner)]);
    if (adopted) out.push(adopted);
  }
  return out;
}
