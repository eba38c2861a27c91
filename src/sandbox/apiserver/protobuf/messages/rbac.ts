/**
 * The protobuf schema of rbac.authorization.k8s.io/v1: Roles, ClusterRoles and their bindings. Row format and
 * sources: ../schema.ts.
 */
import type { MessageTable } from '../schema.js';

export const RBAC_V1: MessageTable = {
  'rbac.v1.AggregationRule': ['1 clusterRoleSelectors []meta.v1.LabelSelector e'],
  'rbac.v1.ClusterRole': ['1 metadata meta.v1.ObjectMeta e', '2 rules []rbac.v1.PolicyRule', '3 aggregationRule rbac.v1.AggregationRule *e'],
  'rbac.v1.ClusterRoleBinding': ['1 metadata meta.v1.ObjectMeta e', '2 subjects []rbac.v1.Subject e', '3 roleRef rbac.v1.RoleRef'],
  'rbac.v1.PolicyRule': [
    '1 verbs []string', '2 apiGroups []string e', '3 resources []string e', '4 resourceNames []string e', '5 nonResourceURLs []string e',
  ],
  'rbac.v1.Role': ['1 metadata meta.v1.ObjectMeta e', '2 rules []rbac.v1.PolicyRule'],
  'rbac.v1.RoleBinding': ['1 metadata meta.v1.ObjectMeta e', '2 subjects []rbac.v1.Subject e', '3 roleRef rbac.v1.RoleRef'],
  'rbac.v1.RoleRef': ['1 apiGroup string', '2 kind string', '3 name string'],
  'rbac.v1.Subject': ['1 kind string', '2 apiGroup string e', '3 name string', '4 namespace string e'],
};
