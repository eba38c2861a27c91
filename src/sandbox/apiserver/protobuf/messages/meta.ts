/**
 * The protobuf schema of meta/v1 (apimachinery): ObjectMeta, LabelSelector, DeleteOptions and what they hold. Row
 * format and sources: ../schema.ts.
 */
import type { MessageTable } from '../schema.js';

export const META_V1: MessageTable = {
  'meta.v1.Condition': [
    '1 type string', '2 status string', '3 observedGeneration int64 e', '4 lastTransitionTime Time', '5 reason string', '6 message string',
  ],
  'meta.v1.DeleteOptions': [
    '1 gracePeriodSeconds int64 *e', '2 preconditions meta.v1.Preconditions *e', '3 orphanDependents bool *e', '4 propagationPolicy string *e',
    '5 dryRun []string e', '6 ignoreStoreReadErrorWithClusterBreakingPotential bool *e',
  ],
  'meta.v1.LabelSelector': ['1 matchLabels map<string> e', '2 matchExpressions []meta.v1.LabelSelectorRequirement e'],
  'meta.v1.LabelSelectorRequirement': ['1 key string', '2 operator string', '3 values []string e'],
  'meta.v1.ManagedFieldsEntry': [
    '1 manager string e', '2 operation string e', '3 apiVersion string e', '4 time Time *e', '6 fieldsType string e', '7 fieldsV1 FieldsV1 *e',
    '8 subresource string e',
  ],
  'meta.v1.ObjectMeta': [
    '1 name string e', '2 generateName string e', '3 namespace string e', '4 selfLink string e', '5 uid string e', '6 resourceVersion string e',
    '7 generation int64 e', '8 creationTimestamp Time ez', '9 deletionTimestamp Time *e', '10 deletionGracePeriodSeconds int64 *e',
    '11 labels map<string> e', '12 annotations map<string> e', '13 ownerReferences []meta.v1.OwnerReference e', '14 finalizers []string e',
    '17 managedFields []meta.v1.ManagedFieldsEntry e',
  ],
  'meta.v1.OwnerReference': [
    '5 apiVersion string', '1 kind string', '3 name string', '4 uid string', '6 controller bool *e', '7 blockOwnerDeletion bool *e',
  ],
  'meta.v1.Preconditions': ['1 uid string *e', '2 resourceVersion string *e'],
};
