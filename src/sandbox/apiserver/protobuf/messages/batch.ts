/** The protobuf schema of batch/v1: Jobs. Row format and sources: ../schema.ts. */
import type { MessageTable } from '../schema.js';

export const BATCH_V1: MessageTable = {
  'batch.v1.Job': ['1 metadata meta.v1.ObjectMeta e', '2 spec batch.v1.JobSpec e', '3 status batch.v1.JobStatus e'],
  'batch.v1.JobCondition': [
    '1 type string', '2 status string', '3 lastProbeTime Time e', '4 lastTransitionTime Time e', '5 reason string e', '6 message string e',
  ],
  'batch.v1.JobSchedulingConfiguration': [
    '1 schedulingPolicy !k8s.io.api.scheduling.v1alpha3.WorkloadPodGroupSchedulingPolicy *e',
    '2 schedulingConstraints !k8s.io.api.scheduling.v1alpha3.WorkloadPodGroupSchedulingConstraints *e',
    '3 disruptionMode !k8s.io.api.scheduling.v1alpha3.WorkloadPodGroupDisruptionMode *e',
    '4 resourceClaims []!k8s.io.api.scheduling.v1alpha3.WorkloadPodGroupResourceClaim e',
  ],
  'batch.v1.JobSpec': [
    '1 parallelism int32 *e', '2 completions int32 *e', '3 activeDeadlineSeconds int64 *e', '11 podFailurePolicy batch.v1.PodFailurePolicy *e',
    '16 successPolicy batch.v1.SuccessPolicy *e', '7 backoffLimit int32 *e', '12 backoffLimitPerIndex int32 *e', '13 maxFailedIndexes int32 *e',
    '4 selector meta.v1.LabelSelector *e', '5 manualSelector bool *e', '6 template core.v1.PodTemplateSpec', '8 ttlSecondsAfterFinished int32 *e',
    '9 completionMode string *e', '10 suspend bool *e', '14 podReplacementPolicy string *e', '15 managedBy string *e',
    '17 scheduling batch.v1.JobSchedulingConfiguration *e',
  ],
  'batch.v1.JobStatus': [
    '1 conditions []batch.v1.JobCondition e', '2 startTime Time *e', '3 completionTime Time *e', '4 active int32 e', '5 succeeded int32 e',
    '6 failed int32 e', '11 terminating int32 *e', '7 completedIndexes string e', '10 failedIndexes string *e',
    '8 uncountedTerminatedPods batch.v1.UncountedTerminatedPods *e', '9 ready int32 *e',
  ],
  'batch.v1.PodFailurePolicy': ['1 rules []batch.v1.PodFailurePolicyRule'],
  'batch.v1.PodFailurePolicyOnExitCodesRequirement': ['1 containerName string *e', '2 operator string', '3 values []int32'],
  'batch.v1.PodFailurePolicyOnPodConditionsPattern': ['1 type string', '2 status string'],
  'batch.v1.PodFailurePolicyRule': [
    '1 action string', '2 onExitCodes batch.v1.PodFailurePolicyOnExitCodesRequirement *e',
    '3 onPodConditions []batch.v1.PodFailurePolicyOnPodConditionsPattern e',
  ],
  'batch.v1.SuccessPolicy': ['1 rules []batch.v1.SuccessPolicyRule'],
  'batch.v1.SuccessPolicyRule': ['1 succeededIndexes string *e', '2 succeededCount int32 *e'],
  'batch.v1.UncountedTerminatedPods': ['1 succeeded []string e', '2 failed []string e'],
};
