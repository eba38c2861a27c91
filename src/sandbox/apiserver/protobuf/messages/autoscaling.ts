/** The protobuf schema of autoscaling/v1: the Scale subresource. Row format and sources: ../schema.ts. */
import type { MessageTable } from '../schema.js';

export const AUTOSCALING_V1: MessageTable = {
  'autoscaling.v1.Scale': ['1 metadata meta.v1.ObjectMeta e', '2 spec autoscaling.v1.ScaleSpec e', '3 status autoscaling.v1.ScaleStatus e'],
  'autoscaling.v1.ScaleSpec': ['1 replicas int32 e'],
  'autoscaling.v1.ScaleStatus': ['1 replicas int32', '2 selector string e'],
};
