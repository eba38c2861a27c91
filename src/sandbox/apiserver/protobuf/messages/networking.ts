/** The protobuf schema of networking.k8s.io/v1: Ingresses. Row format and sources: ../schema.ts. */
import type { MessageTable } from '../schema.js';

export const NETWORKING_V1: MessageTable = {
  'networking.v1.HTTPIngressPath': ['1 path string e', '3 pathType string *', '2 backend networking.v1.IngressBackend'],
  'networking.v1.HTTPIngressRuleValue': ['1 paths []networking.v1.HTTPIngressPath'],
  'networking.v1.Ingress': ['1 metadata meta.v1.ObjectMeta e', '2 spec networking.v1.IngressSpec e', '3 status networking.v1.IngressStatus e'],
  'networking.v1.IngressBackend': ['4 service networking.v1.IngressServiceBackend *e', '3 resource core.v1.TypedLocalObjectReference *e'],
  'networking.v1.IngressLoadBalancerIngress': ['1 ip string e', '2 hostname string e', '4 ports []networking.v1.IngressPortStatus e'],
  'networking.v1.IngressLoadBalancerStatus': ['1 ingress []networking.v1.IngressLoadBalancerIngress e'],
  'networking.v1.IngressPortStatus': ['1 port int32', '2 protocol string', '3 error string *e'],
  'networking.v1.IngressRule': ['1 host string e', '2 - networking.v1.IngressRuleValue i'],
  'networking.v1.IngressRuleValue': ['1 http networking.v1.HTTPIngressRuleValue *e'],
  'networking.v1.IngressServiceBackend': ['1 name string', '2 port networking.v1.ServiceBackendPort e'],
  'networking.v1.IngressSpec': [
    '4 ingressClassName string *e', '1 defaultBackend networking.v1.IngressBackend *e', '2 tls []networking.v1.IngressTLS e',
    '3 rules []networking.v1.IngressRule e',
  ],
  'networking.v1.IngressStatus': ['1 loadBalancer networking.v1.IngressLoadBalancerStatus e'],
  'networking.v1.IngressTLS': ['1 hosts []string e', '2 secretName string e'],
  'networking.v1.ServiceBackendPort': ['1 name string e', '2 number int32 e'],
};
