/** The protobuf schema of apps/v1: Deployments and ReplicaSets. Row format and sources: ../schema.ts. */
import type { MessageTable } from '../schema.js';

export const APPS_V1: MessageTable = {
  'apps.v1.Deployment': ['1 metadata meta.v1.ObjectMeta e', '2 spec apps.v1.DeploymentSpec e', '3 status apps.v1.DeploymentStatus e'],
  'apps.v1.DeploymentCondition': [
    '1 type string', '2 status string', '6 lastUpdateTime Time e', '7 lastTransitionTime Time e', '4 reason string e', '5 message string e',
  ],
  'apps.v1.DeploymentSpec': [
    '1 replicas int32 *e', '2 selector meta.v1.LabelSelector *', '3 template core.v1.PodTemplateSpec', '4 strategy apps.v1.DeploymentStrategy e',
    '5 minReadySeconds int32 e', '6 revisionHistoryLimit int32 *e', '7 paused bool e', '9 progressDeadlineSeconds int32 *e',
  ],
  'apps.v1.DeploymentStatus': [
    '1 observedGeneration int64 e', '2 replicas int32 e', '3 updatedReplicas int32 e', '7 readyReplicas int32 e', '4 availableReplicas int32 e',
    '5 unavailableReplicas int32 e', '9 terminatingReplicas int32 *e', '6 conditions []apps.v1.DeploymentCondition e', '8 collisionCount int32 *e',
  ],
  'apps.v1.DeploymentStrategy': ['1 type string e', '2 rollingUpdate apps.v1.RollingUpdateDeployment *e'],
  'apps.v1.ReplicaSet': ['1 metadata meta.v1.ObjectMeta e', '2 spec apps.v1.ReplicaSetSpec e', '3 status apps.v1.ReplicaSetStatus e'],
  'apps.v1.ReplicaSetCondition': ['1 type string', '2 status string', '3 lastTransitionTime Time e', '4 reason string e', '5 message string e'],
  'apps.v1.ReplicaSetSpec': [
    '1 replicas int32 *e', '4 minReadySeconds int32 e', '2 selector meta.v1.LabelSelector *', '3 template core.v1.PodTemplateSpec e',
  ],
  'apps.v1.ReplicaSetStatus': [
    '1 replicas int32', '2 fullyLabeledReplicas int32 e', '4 readyReplicas int32 e', '5 availableReplicas int32 e', '7 terminatingReplicas int32 *e',
    '3 observedGeneration int64 e', '6 conditions []apps.v1.ReplicaSetCondition e',
  ],
  'apps.v1.RollingUpdateDeployment': ['1 maxUnavailable IntOrString *e', '2 maxSurge IntOrString *e'],
};
