/** The protobuf schema of coordination.k8s.io/v1: Leases. Row format and sources: ../schema.ts. */
import type { MessageTable } from '../schema.js';

export const COORDINATION_V1: MessageTable = {
  'coordination.v1.Lease': ['1 metadata meta.v1.ObjectMeta e', '2 spec coordination.v1.LeaseSpec e'],
  'coordination.v1.LeaseSpec': [
    '1 holderIdentity string *e', '2 leaseDurationSeconds int32 *e', '3 acquireTime MicroTime *e', '4 renewTime MicroTime *e',
    '5 leaseTransitions int32 *e', '6 strategy string *e', '7 preferredHolder string *e',
  ],
};
