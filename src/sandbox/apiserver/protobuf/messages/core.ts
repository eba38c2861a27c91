/**
 * The protobuf schema of core/v1 (the legacy group) but pods and volumes: Namespaces, Nodes, Services, Endpoints,
 * Events, Secrets, ConfigMaps, ServiceAccounts and what they share with pods. Row format and sources: ../schema.ts.
 */
import type { MessageTable } from '../schema.js';

export const CORE_V1: MessageTable = {
  'core.v1.AttachedVolume': ['1 name string', '2 devicePath string'],
  'core.v1.ClientIPConfig': ['1 timeoutSeconds int32 *e'],
  'core.v1.ConfigMap': ['1 metadata meta.v1.ObjectMeta e', '4 immutable bool *e', '2 data map<string> e', '3 binaryData map<bytes> e'],
  'core.v1.ConfigMapNodeConfigSource': [
    '1 namespace string', '2 name string', '3 uid string e', '4 resourceVersion string e', '5 kubeletConfigKey string',
  ],
  'core.v1.ContainerImage': ['1 names []string', '2 sizeBytes int64 e'],
  'core.v1.DaemonEndpoint': ['1 Port int32'],
  'core.v1.EndpointAddress': ['1 ip string', '3 hostname string e', '4 nodeName string *e', '2 targetRef core.v1.ObjectReference *e'],
  'core.v1.EndpointPort': ['1 name string e', '2 port int32', '3 protocol string e', '4 appProtocol string *e'],
  'core.v1.EndpointSubset': [
    '1 addresses []core.v1.EndpointAddress e', '2 notReadyAddresses []core.v1.EndpointAddress e', '3 ports []core.v1.EndpointPort e',
  ],
  'core.v1.Endpoints': ['1 metadata meta.v1.ObjectMeta e', '2 subsets []core.v1.EndpointSubset e'],
  'core.v1.Event': [
    '1 metadata meta.v1.ObjectMeta', '2 involvedObject core.v1.ObjectReference', '3 reason string e', '4 message string e',
    '5 source core.v1.EventSource e', '6 firstTimestamp Time e', '7 lastTimestamp Time e', '8 count int32 e', '9 type string e',
    '10 eventTime MicroTime e', '11 series core.v1.EventSeries *e', '12 action string e', '13 related core.v1.ObjectReference *e',
    '14 reportingComponent string', '15 reportingInstance string',
  ],
  'core.v1.EventSeries': ['1 count int32 e', '2 lastObservedTime MicroTime e'],
  'core.v1.EventSource': ['1 component string e', '2 host string e'],
  'core.v1.LoadBalancerIngress': ['1 ip string e', '2 hostname string e', '3 ipMode string *e', '4 ports []core.v1.PortStatus e'],
  'core.v1.LoadBalancerStatus': ['1 ingress []core.v1.LoadBalancerIngress e'],
  'core.v1.LocalObjectReference': ['1 name string e'],
  'core.v1.Namespace': ['1 metadata meta.v1.ObjectMeta e', '2 spec core.v1.NamespaceSpec e', '3 status core.v1.NamespaceStatus e'],
  'core.v1.NamespaceCondition': ['1 type string', '2 status string', '4 lastTransitionTime Time e', '5 reason string e', '6 message string e'],
  'core.v1.NamespaceSpec': ['1 finalizers []string e'],
  'core.v1.NamespaceStatus': ['1 phase string e', '2 conditions []core.v1.NamespaceCondition e'],
  'core.v1.Node': ['1 metadata meta.v1.ObjectMeta e', '2 spec core.v1.NodeSpec e', '3 status core.v1.NodeStatus e'],
  'core.v1.NodeAddress': ['1 type string', '2 address string'],
  'core.v1.NodeCondition': [
    '1 type string', '2 status string', '3 lastHeartbeatTime Time e', '4 lastTransitionTime Time e', '5 reason string e', '6 message string e',
  ],
  'core.v1.NodeConfigSource': ['2 configMap core.v1.ConfigMapNodeConfigSource *e'],
  'core.v1.NodeConfigStatus': [
    '1 assigned core.v1.NodeConfigSource *e', '2 active core.v1.NodeConfigSource *e', '3 lastKnownGood core.v1.NodeConfigSource *e',
    '4 error string e',
  ],
  'core.v1.NodeDaemonEndpoints': ['1 kubeletEndpoint core.v1.DaemonEndpoint e'],
  'core.v1.NodeFeatures': ['1 supplementalGroupsPolicy bool *e'],
  'core.v1.NodePodPreemptionPolicy': ['1 disableResizePreemption []string e'],
  'core.v1.NodeRuntimeHandler': ['1 name string', '2 features core.v1.NodeRuntimeHandlerFeatures *e'],
  'core.v1.NodeRuntimeHandlerFeatures': ['1 recursiveReadOnlyMounts bool *e', '2 userNamespaces bool *e'],
  'core.v1.NodeSpec': [
    '1 podCIDR string e', '7 podCIDRs []string e', '3 providerID string e', '4 unschedulable bool e', '5 taints []core.v1.Taint e',
    '6 configSource core.v1.NodeConfigSource *e', '2 externalID string e', '8 podPreemptionPolicy core.v1.NodePodPreemptionPolicy *e',
  ],
  'core.v1.NodeStatus': [
    '1 capacity map<Quantity> e', '2 allocatable map<Quantity> e', '3 phase string e', '4 conditions []core.v1.NodeCondition e',
    '5 addresses []core.v1.NodeAddress e', '6 daemonEndpoints core.v1.NodeDaemonEndpoints e', '7 nodeInfo core.v1.NodeSystemInfo e',
    '8 images []core.v1.ContainerImage e', '9 volumesInUse []string e', '10 volumesAttached []core.v1.AttachedVolume e',
    '11 config core.v1.NodeConfigStatus *e', '12 runtimeHandlers []core.v1.NodeRuntimeHandler e', '13 features core.v1.NodeFeatures *e',
    '14 declaredFeatures []string e',
  ],
  'core.v1.NodeSwapStatus': ['1 capacity int64 *e'],
  'core.v1.NodeSystemInfo': [
    '1 machineID string', '2 systemUUID string', '3 bootID string', '4 kernelVersion string', '5 osImage string', '6 containerRuntimeVersion string',
    '7 kubeletVersion string', '8 kubeProxyVersion string', '9 operatingSystem string', '10 architecture string', '11 swap core.v1.NodeSwapStatus *e',
  ],
  'core.v1.ObjectReference': [
    '1 kind string e', '2 namespace string e', '3 name string e', '4 uid string e', '5 apiVersion string e', '6 resourceVersion string e',
    '7 fieldPath string e',
  ],
  'core.v1.PortStatus': ['1 port int32', '2 protocol string', '3 error string *e'],
  'core.v1.Secret': [
    '1 metadata meta.v1.ObjectMeta e', '5 immutable bool *e', '2 data map<bytes> e', '4 stringData map<string> e', '3 type string e',
  ],
  'core.v1.Service': ['1 metadata meta.v1.ObjectMeta e', '2 spec core.v1.ServiceSpec e', '3 status core.v1.ServiceStatus e'],
  'core.v1.ServiceAccount': [
    '1 metadata meta.v1.ObjectMeta e', '2 secrets []core.v1.ObjectReference e', '3 imagePullSecrets []core.v1.LocalObjectReference e',
    '4 automountServiceAccountToken bool *e',
  ],
  'core.v1.ServicePort': [
    '1 name string e', '2 protocol string e', '6 appProtocol string *e', '3 port int32', '4 targetPort IntOrString e', '5 nodePort int32 e',
  ],
  'core.v1.ServiceSpec': [
    '1 ports []core.v1.ServicePort e', '2 selector map<string> e', '3 clusterIP string e', '18 clusterIPs []string e', '4 type string e',
    '5 externalIPs []string e', '7 sessionAffinity string e', '8 loadBalancerIP string e', '9 loadBalancerSourceRanges []string e',
    '10 externalName string e', '11 externalTrafficPolicy string e', '12 healthCheckNodePort int32 e', '13 publishNotReadyAddresses bool e',
    '14 sessionAffinityConfig core.v1.SessionAffinityConfig *e', '19 ipFamilies []string e', '17 ipFamilyPolicy string *e',
    '20 allocateLoadBalancerNodePorts bool *e', '21 loadBalancerClass string *e', '22 internalTrafficPolicy string *e',
    '23 trafficDistribution string *e',
  ],
  'core.v1.ServiceStatus': ['1 loadBalancer core.v1.LoadBalancerStatus e', '2 conditions []meta.v1.Condition e'],
  'core.v1.SessionAffinityConfig': ['1 clientIP core.v1.ClientIPConfig *e'],
  'core.v1.Taint': ['1 key string', '2 value string e', '3 effect string', '4 timeAdded Time *e'],
};
