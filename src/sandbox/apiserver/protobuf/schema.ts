/**
 * The protobuf schema of the kinds the sandbox serves: for every message reachable from them, its fields by number.
 *
 * Data taken from the Go types of kubernetes/api (`{core,apps,batch,networking,rbac,coordination,autoscaling}/v1`,
 * commit 10b39a39) and kubernetes/apimachinery (`pkg/apis/meta/v1`, commit eed236ce): the `protobuf:"…"` struct tag
 * gives the field number, `generated.proto` the proto type, and the `json:"…"` tag the JSON name and `omitempty` /
 * `omitzero`. A newer table than the advertised v1.32 is a superset: field numbers are never reused.
 *
 * A field is written `'<number> <json name> <type> [flags]'`:
 * - type: a proto scalar (`string`, `bytes`, `bool`, `int32`, `int64`, `uint32`, `uint64`, `double`, `float`, …), a
 *   message of this table (`core.v1.Container`), a type with its own JSON form (`Time`, `MicroTime`, `Quantity`,
 *   `IntOrString`, `FieldsV1`), `!<proto name>` for a message of a package the sandbox does not decode (present on the
 *   wire: an error), `[]T` for a repeated field and `map<T>` for a `map<string, T>`;
 * - flags: `*` the Go field is a pointer (a present zero is kept), `e` `omitempty` (a zero scalar of a non-pointer field is
 *   dropped, as Go's JSON encoding of the decoded struct would), `z` `omitzero` (a zero Time is dropped), `i` an embedded
 *   struct whose fields JSON inlines into its parent (its JSON name is `-`).
 */

/** Message name (`<group short>.<version>.<Kind>`) -> its fields. */
export const MESSAGES: Readonly<Record<string, readonly string[]>> = {
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
  'autoscaling.v1.Scale': ['1 metadata meta.v1.ObjectMeta e', '2 spec autoscaling.v1.ScaleSpec e', '3 status autoscaling.v1.ScaleStatus e'],
  'autoscaling.v1.ScaleSpec': ['1 replicas int32 e'],
  'autoscaling.v1.ScaleStatus': ['1 replicas int32', '2 selector string e'],
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
  'coordination.v1.Lease': ['1 metadata meta.v1.ObjectMeta e', '2 spec coordination.v1.LeaseSpec e'],
  'coordination.v1.LeaseSpec': [
    '1 holderIdentity string *e', '2 leaseDurationSeconds int32 *e', '3 acquireTime MicroTime *e', '4 renewTime MicroTime *e',
    '5 leaseTransitions int32 *e', '6 strategy string *e', '7 preferredHolder string *e',
  ],
  'core.v1.AWSElasticBlockStoreVolumeSource': ['1 volumeID string', '2 fsType string e', '3 partition int32 e', '4 readOnly bool e'],
  'core.v1.Affinity': [
    '1 nodeAffinity core.v1.NodeAffinity *e', '2 podAffinity core.v1.PodAffinity *e', '3 podAntiAffinity core.v1.PodAntiAffinity *e',
  ],
  'core.v1.AppArmorProfile': ['1 type string', '2 localhostProfile string *e'],
  'core.v1.AttachedVolume': ['1 name string', '2 devicePath string'],
  'core.v1.AzureDiskVolumeSource': [
    '1 diskName string', '2 diskURI string', '3 cachingMode string *e', '4 fsType string *e', '5 readOnly bool *e', '6 kind string *e',
  ],
  'core.v1.AzureFileVolumeSource': ['1 secretName string', '2 shareName string', '3 readOnly bool e'],
  'core.v1.CSIVolumeSource': [
    '1 driver string', '2 readOnly bool *e', '3 fsType string *e', '4 volumeAttributes map<string> e',
    '5 nodePublishSecretRef core.v1.LocalObjectReference *e',
  ],
  'core.v1.Capabilities': ['1 add []string e', '2 drop []string e'],
  'core.v1.CephFSVolumeSource': [
    '1 monitors []string', '2 path string e', '3 user string e', '4 secretFile string e', '5 secretRef core.v1.LocalObjectReference *e',
    '6 readOnly bool e',
  ],
  'core.v1.CinderVolumeSource': ['1 volumeID string', '2 fsType string e', '3 readOnly bool e', '4 secretRef core.v1.LocalObjectReference *e'],
  'core.v1.ClientIPConfig': ['1 timeoutSeconds int32 *e'],
  'core.v1.ClusterTrustBundleProjection': [
    '1 name string *e', '2 signerName string *e', '3 labelSelector meta.v1.LabelSelector *e', '5 optional bool *e', '4 path string',
    '6 user int64 *e',
  ],
  'core.v1.ConfigMap': ['1 metadata meta.v1.ObjectMeta e', '4 immutable bool *e', '2 data map<string> e', '3 binaryData map<bytes> e'],
  'core.v1.ConfigMapEnvSource': ['1 - core.v1.LocalObjectReference i', '2 optional bool *e'],
  'core.v1.ConfigMapKeySelector': ['1 - core.v1.LocalObjectReference i', '2 key string', '3 optional bool *e'],
  'core.v1.ConfigMapNodeConfigSource': [
    '1 namespace string', '2 name string', '3 uid string e', '4 resourceVersion string e', '5 kubeletConfigKey string',
  ],
  'core.v1.ConfigMapProjection': ['1 - core.v1.LocalObjectReference i', '2 items []core.v1.KeyToPath e', '4 optional bool *e'],
  'core.v1.ConfigMapVolumeSource': [
    '1 - core.v1.LocalObjectReference i', '2 items []core.v1.KeyToPath e', '3 defaultMode int32 *e', '4 optional bool *e', '5 defaultUser int64 *e',
  ],
  'core.v1.Container': [
    '1 name string', '2 image string e', '3 command []string e', '4 args []string e', '5 workingDir string e', '6 ports []core.v1.ContainerPort e',
    '19 envFrom []core.v1.EnvFromSource e', '7 env []core.v1.EnvVar e', '8 resources core.v1.ResourceRequirements e',
    '23 resizePolicy []core.v1.ContainerResizePolicy e', '24 restartPolicy string *e', '25 restartPolicyRules []core.v1.ContainerRestartRule e',
    '9 volumeMounts []core.v1.VolumeMount e', '21 volumeDevices []core.v1.VolumeDevice e', '10 livenessProbe core.v1.Probe *e',
    '11 readinessProbe core.v1.Probe *e', '22 startupProbe core.v1.Probe *e', '12 lifecycle core.v1.Lifecycle *e',
    '13 terminationMessagePath string e', '20 terminationMessagePolicy string e', '14 imagePullPolicy string e',
    '15 securityContext core.v1.SecurityContext *e', '16 stdin bool e', '17 stdinOnce bool e', '18 tty bool e',
  ],
  'core.v1.ContainerExtendedResourceRequest': ['1 containerName string', '2 resourceName string', '3 requestName string'],
  'core.v1.ContainerImage': ['1 names []string', '2 sizeBytes int64 e'],
  'core.v1.ContainerPort': ['1 name string e', '2 hostPort int32 e', '3 containerPort int32', '4 protocol string e', '5 hostIP string e'],
  'core.v1.ContainerResizePolicy': ['1 resourceName string', '2 restartPolicy string'],
  'core.v1.ContainerRestartRule': ['1 action string e', '2 exitCodes core.v1.ContainerRestartRuleOnExitCodes *e'],
  'core.v1.ContainerRestartRuleOnExitCodes': ['1 operator string e', '2 values []int32 e'],
  'core.v1.ContainerState': [
    '1 waiting core.v1.ContainerStateWaiting *e', '2 running core.v1.ContainerStateRunning *e', '3 terminated core.v1.ContainerStateTerminated *e',
  ],
  'core.v1.ContainerStateRunning': ['1 startedAt Time e'],
  'core.v1.ContainerStateTerminated': [
    '1 exitCode int32', '2 signal int32 e', '3 reason string e', '4 message string e', '5 startedAt Time e', '6 finishedAt Time e',
    '7 containerID string e',
  ],
  'core.v1.ContainerStateWaiting': ['1 reason string e', '2 message string e'],
  'core.v1.ContainerStatus': [
    '1 name string', '2 state core.v1.ContainerState e', '3 lastState core.v1.ContainerState e', '4 ready bool', '5 restartCount int32',
    '6 image string', '7 imageID string', '8 containerID string e', '9 started bool *e', '10 allocatedResources map<Quantity> e',
    '11 resources core.v1.ResourceRequirements *e', '12 volumeMounts []core.v1.VolumeMountStatus e', '13 user core.v1.ContainerUser *e',
    '14 allocatedResourcesStatus []core.v1.ResourceStatus e', '15 stopSignal string *e',
  ],
  'core.v1.ContainerUser': ['1 linux core.v1.LinuxContainerUser *e'],
  'core.v1.DaemonEndpoint': ['1 Port int32'],
  'core.v1.DownwardAPIProjection': ['1 items []core.v1.DownwardAPIVolumeFile e'],
  'core.v1.DownwardAPIVolumeFile': [
    '1 path string', '2 fieldRef core.v1.ObjectFieldSelector *e', '3 resourceFieldRef core.v1.ResourceFieldSelector *e', '4 mode int32 *e',
    '5 user int64 *e',
  ],
  'core.v1.DownwardAPIVolumeSource': ['1 items []core.v1.DownwardAPIVolumeFile e', '2 defaultMode int32 *e', '3 defaultUser int64 *e'],
  'core.v1.EmptyDirVolumeSource': ['1 medium string e', '2 sizeLimit Quantity *e', '3 mode int32 *e'],
  'core.v1.EndpointAddress': ['1 ip string', '3 hostname string e', '4 nodeName string *e', '2 targetRef core.v1.ObjectReference *e'],
  'core.v1.EndpointPort': ['1 name string e', '2 port int32', '3 protocol string e', '4 appProtocol string *e'],
  'core.v1.EndpointSubset': [
    '1 addresses []core.v1.EndpointAddress e', '2 notReadyAddresses []core.v1.EndpointAddress e', '3 ports []core.v1.EndpointPort e',
  ],
  'core.v1.Endpoints': ['1 metadata meta.v1.ObjectMeta e', '2 subsets []core.v1.EndpointSubset e'],
  'core.v1.EnvFromSource': ['1 prefix string e', '2 configMapRef core.v1.ConfigMapEnvSource *e', '3 secretRef core.v1.SecretEnvSource *e'],
  'core.v1.EnvVar': ['1 name string', '2 value string e', '3 valueFrom core.v1.EnvVarSource *e'],
  'core.v1.EnvVarSource': [
    '1 fieldRef core.v1.ObjectFieldSelector *e', '2 resourceFieldRef core.v1.ResourceFieldSelector *e',
    '3 configMapKeyRef core.v1.ConfigMapKeySelector *e', '4 secretKeyRef core.v1.SecretKeySelector *e', '5 fileKeyRef core.v1.FileKeySelector *e',
  ],
  'core.v1.EphemeralContainer': ['1 - core.v1.EphemeralContainerCommon i', '2 targetContainerName string e'],
  'core.v1.EphemeralContainerCommon': [
    '1 name string', '2 image string e', '3 command []string e', '4 args []string e', '5 workingDir string e', '6 ports []core.v1.ContainerPort e',
    '19 envFrom []core.v1.EnvFromSource e', '7 env []core.v1.EnvVar e', '8 resources core.v1.ResourceRequirements e',
    '23 resizePolicy []core.v1.ContainerResizePolicy e', '24 restartPolicy string *e', '25 restartPolicyRules []core.v1.ContainerRestartRule e',
    '9 volumeMounts []core.v1.VolumeMount e', '21 volumeDevices []core.v1.VolumeDevice e', '10 livenessProbe core.v1.Probe *e',
    '11 readinessProbe core.v1.Probe *e', '22 startupProbe core.v1.Probe *e', '12 lifecycle core.v1.Lifecycle *e',
    '13 terminationMessagePath string e', '20 terminationMessagePolicy string e', '14 imagePullPolicy string e',
    '15 securityContext core.v1.SecurityContext *e', '16 stdin bool e', '17 stdinOnce bool e', '18 tty bool e',
  ],
  'core.v1.EphemeralVolumeSource': ['1 volumeClaimTemplate core.v1.PersistentVolumeClaimTemplate *e'],
  'core.v1.Event': [
    '1 metadata meta.v1.ObjectMeta', '2 involvedObject core.v1.ObjectReference', '3 reason string e', '4 message string e',
    '5 source core.v1.EventSource e', '6 firstTimestamp Time e', '7 lastTimestamp Time e', '8 count int32 e', '9 type string e',
    '10 eventTime MicroTime e', '11 series core.v1.EventSeries *e', '12 action string e', '13 related core.v1.ObjectReference *e',
    '14 reportingComponent string', '15 reportingInstance string',
  ],
  'core.v1.EventSeries': ['1 count int32 e', '2 lastObservedTime MicroTime e'],
  'core.v1.EventSource': ['1 component string e', '2 host string e'],
  'core.v1.EvictionResponder': ['1 name string', '2 priority int32 *'],
  'core.v1.ExecAction': ['1 command []string e'],
  'core.v1.FCVolumeSource': ['1 targetWWNs []string e', '2 lun int32 *e', '3 fsType string e', '4 readOnly bool e', '5 wwids []string e'],
  'core.v1.FileKeySelector': ['1 volumeName string', '2 path string', '3 key string', '4 optional bool *e'],
  'core.v1.FlexVolumeSource': [
    '1 driver string', '2 fsType string e', '3 secretRef core.v1.LocalObjectReference *e', '4 readOnly bool e', '5 options map<string> e',
  ],
  'core.v1.FlockerVolumeSource': ['1 datasetName string e', '2 datasetUUID string e'],
  'core.v1.GCEPersistentDiskVolumeSource': ['1 pdName string', '2 fsType string e', '3 partition int32 e', '4 readOnly bool e'],
  'core.v1.GRPCAction': ['1 port int32', '2 service string *', '3 mode string *e'],
  'core.v1.GitRepoVolumeSource': ['1 repository string', '2 revision string e', '3 directory string e'],
  'core.v1.GlusterfsVolumeSource': ['1 endpoints string', '2 path string', '3 readOnly bool e'],
  'core.v1.HTTPGetAction': [
    '1 path string e', '2 port IntOrString', '3 host string e', '4 scheme string e', '5 httpHeaders []core.v1.HTTPHeader e', '6 protocol string *e',
  ],
  'core.v1.HTTPHeader': ['1 name string', '2 value string'],
  'core.v1.HostAlias': ['1 ip string', '2 hostnames []string e'],
  'core.v1.HostIP': ['1 ip string'],
  'core.v1.HostPathVolumeSource': ['1 path string', '2 type string *e'],
  'core.v1.ISCSIVolumeSource': [
    '1 targetPortal string', '2 iqn string', '3 lun int32', '4 iscsiInterface string e', '5 fsType string e', '6 readOnly bool e',
    '7 portals []string e', '8 chapAuthDiscovery bool e', '11 chapAuthSession bool e', '10 secretRef core.v1.LocalObjectReference *e',
    '12 initiatorName string *e',
  ],
  'core.v1.ImageVolumeSource': ['1 reference string e', '2 pullPolicy string e'],
  'core.v1.ImageVolumeStatus': ['1 imageRef string e'],
  'core.v1.KeyToPath': ['1 key string', '2 path string', '3 mode int32 *e', '4 user int64 *e'],
  'core.v1.Lifecycle': ['1 postStart core.v1.LifecycleHandler *e', '2 preStop core.v1.LifecycleHandler *e', '3 stopSignal string *e'],
  'core.v1.LifecycleHandler': [
    '1 exec core.v1.ExecAction *e', '2 httpGet core.v1.HTTPGetAction *e', '3 tcpSocket core.v1.TCPSocketAction *e', '4 sleep core.v1.SleepAction *e',
  ],
  'core.v1.LinuxContainerUser': ['1 uid int64', '2 gid int64', '3 supplementalGroups []int64 e'],
  'core.v1.LoadBalancerIngress': ['1 ip string e', '2 hostname string e', '3 ipMode string *e', '4 ports []core.v1.PortStatus e'],
  'core.v1.LoadBalancerStatus': ['1 ingress []core.v1.LoadBalancerIngress e'],
  'core.v1.LocalObjectReference': ['1 name string e'],
  'core.v1.NFSVolumeSource': ['1 server string', '2 path string', '3 readOnly bool e'],
  'core.v1.Namespace': ['1 metadata meta.v1.ObjectMeta e', '2 spec core.v1.NamespaceSpec e', '3 status core.v1.NamespaceStatus e'],
  'core.v1.NamespaceCondition': ['1 type string', '2 status string', '4 lastTransitionTime Time e', '5 reason string e', '6 message string e'],
  'core.v1.NamespaceSpec': ['1 finalizers []string e'],
  'core.v1.NamespaceStatus': ['1 phase string e', '2 conditions []core.v1.NamespaceCondition e'],
  'core.v1.Node': ['1 metadata meta.v1.ObjectMeta e', '2 spec core.v1.NodeSpec e', '3 status core.v1.NodeStatus e'],
  'core.v1.NodeAddress': ['1 type string', '2 address string'],
  'core.v1.NodeAffinity': [
    '1 requiredDuringSchedulingIgnoredDuringExecution core.v1.NodeSelector *e',
    '2 preferredDuringSchedulingIgnoredDuringExecution []core.v1.PreferredSchedulingTerm e',
  ],
  'core.v1.NodeAllocatableMappedResources': ['1 name string', '2 quantity Quantity *'],
  'core.v1.NodeAllocatableOverheadResources': ['1 name string', '2 perPod Quantity *e', '3 perContainer Quantity *e'],
  'core.v1.NodeAllocatableResourceClaimStatus': [
    '1 resourceClaimName string', '2 containers []string e', '4 mapping []core.v1.NodeAllocatableMappedResources e',
    '5 overhead []core.v1.NodeAllocatableOverheadResources e',
  ],
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
  'core.v1.NodeSelector': ['1 nodeSelectorTerms []core.v1.NodeSelectorTerm'],
  'core.v1.NodeSelectorRequirement': ['1 key string', '2 operator string', '3 values []string e'],
  'core.v1.NodeSelectorTerm': ['1 matchExpressions []core.v1.NodeSelectorRequirement e', '2 matchFields []core.v1.NodeSelectorRequirement e'],
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
  'core.v1.ObjectFieldSelector': ['1 apiVersion string e', '2 fieldPath string'],
  'core.v1.ObjectReference': [
    '1 kind string e', '2 namespace string e', '3 name string e', '4 uid string e', '5 apiVersion string e', '6 resourceVersion string e',
    '7 fieldPath string e',
  ],
  'core.v1.PersistentVolumeClaimSpec': [
    '1 accessModes []string e', '4 selector meta.v1.LabelSelector *e', '2 resources core.v1.VolumeResourceRequirements e', '3 volumeName string e',
    '5 storageClassName string *e', '6 volumeMode string *e', '7 dataSource core.v1.TypedLocalObjectReference *e',
    '8 dataSourceRef core.v1.TypedObjectReference *e', '9 volumeAttributesClassName string *e',
  ],
  'core.v1.PersistentVolumeClaimTemplate': ['1 metadata meta.v1.ObjectMeta e', '2 spec core.v1.PersistentVolumeClaimSpec'],
  'core.v1.PersistentVolumeClaimVolumeSource': ['1 claimName string', '2 readOnly bool e'],
  'core.v1.PhotonPersistentDiskVolumeSource': ['1 pdID string', '2 fsType string e'],
  'core.v1.Pod': ['1 metadata meta.v1.ObjectMeta e', '2 spec core.v1.PodSpec e', '3 status core.v1.PodStatus e'],
  'core.v1.PodAffinity': [
    '1 requiredDuringSchedulingIgnoredDuringExecution []core.v1.PodAffinityTerm e',
    '2 preferredDuringSchedulingIgnoredDuringExecution []core.v1.WeightedPodAffinityTerm e',
  ],
  'core.v1.PodAffinityTerm': [
    '1 labelSelector meta.v1.LabelSelector *e', '2 namespaces []string e', '3 topologyKey string', '4 namespaceSelector meta.v1.LabelSelector *e',
    '5 matchLabelKeys []string e', '6 mismatchLabelKeys []string e',
  ],
  'core.v1.PodAntiAffinity': [
    '1 requiredDuringSchedulingIgnoredDuringExecution []core.v1.PodAffinityTerm e',
    '2 preferredDuringSchedulingIgnoredDuringExecution []core.v1.WeightedPodAffinityTerm e',
  ],
  'core.v1.PodCertificateProjection': [
    '1 signerName string e', '2 keyType string e', '3 maxExpirationSeconds int32 *e', '4 credentialBundlePath string e', '5 keyPath string e',
    '6 certificateChainPath string e', '7 userAnnotations map<string> e', '8 user int64 *e',
  ],
  'core.v1.PodCondition': [
    '1 type string', '7 observedGeneration int64 e', '2 status string', '3 lastProbeTime Time e', '4 lastTransitionTime Time e', '5 reason string e',
    '6 message string e',
  ],
  'core.v1.PodDNSConfig': ['1 nameservers []string e', '2 searches []string e', '3 options []core.v1.PodDNSConfigOption e'],
  'core.v1.PodDNSConfigOption': ['1 name string e', '2 value string *e'],
  'core.v1.PodExtendedResourceClaimStatus': ['1 requestMappings []core.v1.ContainerExtendedResourceRequest', '2 resourceClaimName string'],
  'core.v1.PodIP': ['1 ip string'],
  'core.v1.PodOS': ['1 name string'],
  'core.v1.PodReadinessGate': ['1 conditionType string'],
  'core.v1.PodResourceClaim': ['1 name string', '3 resourceClaimName string *e', '4 resourceClaimTemplateName string *e'],
  'core.v1.PodResourceClaimStatus': ['1 name string', '2 resourceClaimName string *e'],
  'core.v1.PodSchedulingGate': ['1 name string'],
  'core.v1.PodSchedulingGroup': ['1 podGroupName string *e'],
  'core.v1.PodSecurityContext': [
    '1 seLinuxOptions core.v1.SELinuxOptions *e', '8 windowsOptions core.v1.WindowsSecurityContextOptions *e', '2 runAsUser int64 *e',
    '6 runAsGroup int64 *e', '3 runAsNonRoot bool *e', '4 supplementalGroups []int64 e', '12 supplementalGroupsPolicy string *e',
    '5 fsGroup int64 *e', '7 sysctls []core.v1.Sysctl e', '9 fsGroupChangePolicy string *e', '10 seccompProfile core.v1.SeccompProfile *e',
    '11 appArmorProfile core.v1.AppArmorProfile *e', '13 seLinuxChangePolicy string *e',
  ],
  'core.v1.PodSpec': [
    '1 volumes []core.v1.Volume e', '20 initContainers []core.v1.Container e', '2 containers []core.v1.Container',
    '34 ephemeralContainers []core.v1.EphemeralContainer e', '3 restartPolicy string e', '4 terminationGracePeriodSeconds int64 *e',
    '5 activeDeadlineSeconds int64 *e', '6 dnsPolicy string e', '7 nodeSelector map<string> e', '8 serviceAccountName string e',
    '9 serviceAccount string e', '21 automountServiceAccountToken bool *e', '10 nodeName string e', '11 hostNetwork bool e', '12 hostPID bool e',
    '13 hostIPC bool e', '27 shareProcessNamespace bool *e', '14 securityContext core.v1.PodSecurityContext *e',
    '15 imagePullSecrets []core.v1.LocalObjectReference e', '16 hostname string e', '17 subdomain string e', '18 affinity core.v1.Affinity *e',
    '19 schedulerName string e', '22 tolerations []core.v1.Toleration e', '23 hostAliases []core.v1.HostAlias e', '24 priorityClassName string e',
    '25 priority int32 *e', '26 dnsConfig core.v1.PodDNSConfig *e', '28 readinessGates []core.v1.PodReadinessGate e', '29 runtimeClassName string *e',
    '30 enableServiceLinks bool *e', '31 preemptionPolicy string *e', '32 overhead map<Quantity> e',
    '33 topologySpreadConstraints []core.v1.TopologySpreadConstraint e', '35 setHostnameAsFQDN bool *e', '36 os core.v1.PodOS *e',
    '37 hostUsers bool *e', '38 schedulingGates []core.v1.PodSchedulingGate e', '39 resourceClaims []core.v1.PodResourceClaim e',
    '40 resources core.v1.ResourceRequirements *e', '41 hostnameOverride string *e', '43 schedulingGroup core.v1.PodSchedulingGroup *e',
    '44 evictionResponders []core.v1.EvictionResponder e',
  ],
  'core.v1.PodStatus': [
    '17 observedGeneration int64 e', '1 phase string e', '2 conditions []core.v1.PodCondition e', '3 message string e', '4 reason string e',
    '11 nominatedNodeName string e', '5 hostIP string e', '16 hostIPs []core.v1.HostIP e', '6 podIP string e', '12 podIPs []core.v1.PodIP e',
    '7 startTime Time *e', '10 initContainerStatuses []core.v1.ContainerStatus e', '8 containerStatuses []core.v1.ContainerStatus e',
    '9 qosClass string e', '13 ephemeralContainerStatuses []core.v1.ContainerStatus e', '14 resize string e',
    '15 resourceClaimStatuses []core.v1.PodResourceClaimStatus e', '18 extendedResourceClaimStatus core.v1.PodExtendedResourceClaimStatus *e',
    '19 allocatedResources map<Quantity> e', '20 resources core.v1.ResourceRequirements *e',
    '21 nodeAllocatableResourceClaimStatuses []core.v1.NodeAllocatableResourceClaimStatus e', '22 volumeHealth []core.v1.PodVolumeHealth e',
  ],
  'core.v1.PodTemplateSpec': ['1 metadata meta.v1.ObjectMeta e', '2 spec core.v1.PodSpec e'],
  'core.v1.PodVolumeHealth': ['1 name string', '2 healthConditions []core.v1.VolumeHealthCondition e', '3 lastTransitionTime Time e'],
  'core.v1.PortStatus': ['1 port int32', '2 protocol string', '3 error string *e'],
  'core.v1.PortworxVolumeSource': ['1 volumeID string', '2 fsType string e', '3 readOnly bool e'],
  'core.v1.PreferredSchedulingTerm': ['1 weight int32', '2 preference core.v1.NodeSelectorTerm'],
  'core.v1.Probe': [
    '1 - core.v1.ProbeHandler i', '2 initialDelaySeconds int32 e', '3 timeoutSeconds int32 e', '4 periodSeconds int32 e',
    '5 successThreshold int32 e', '6 failureThreshold int32 e', '7 terminationGracePeriodSeconds int64 *e',
  ],
  'core.v1.ProbeHandler': [
    '1 exec core.v1.ExecAction *e', '2 httpGet core.v1.HTTPGetAction *e', '3 tcpSocket core.v1.TCPSocketAction *e', '4 grpc core.v1.GRPCAction *e',
  ],
  'core.v1.ProjectedVolumeSource': ['1 sources []core.v1.VolumeProjection', '2 defaultMode int32 *e', '3 defaultUser int64 *e'],
  'core.v1.QuobyteVolumeSource': [
    '1 registry string', '2 volume string', '3 readOnly bool e', '4 user string e', '5 group string e', '6 tenant string e',
  ],
  'core.v1.RBDVolumeSource': [
    '1 monitors []string', '2 image string', '3 fsType string e', '4 pool string e', '5 user string e', '6 keyring string e',
    '7 secretRef core.v1.LocalObjectReference *e', '8 readOnly bool e',
  ],
  'core.v1.ResourceClaim': ['1 name string', '2 request string e'],
  'core.v1.ResourceFieldSelector': ['1 containerName string e', '2 resource string', '3 divisor Quantity e'],
  'core.v1.ResourceHealth': ['1 resourceID string', '2 health string e', '6 message string *e'],
  'core.v1.ResourceRequirements': ['1 limits map<Quantity> e', '2 requests map<Quantity> e', '3 claims []core.v1.ResourceClaim e'],
  'core.v1.ResourceStatus': ['1 name string', '2 resources []core.v1.ResourceHealth e'],
  'core.v1.SELinuxOptions': ['1 user string e', '2 role string e', '3 type string e', '4 level string e'],
  'core.v1.ScaleIOVolumeSource': [
    '1 gateway string', '2 system string', '3 secretRef core.v1.LocalObjectReference *', '4 sslEnabled bool e', '5 protectionDomain string e',
    '6 storagePool string e', '7 storageMode string e', '8 volumeName string e', '9 fsType string e', '10 readOnly bool e',
  ],
  'core.v1.SeccompProfile': ['1 type string', '2 localhostProfile string *e'],
  'core.v1.Secret': [
    '1 metadata meta.v1.ObjectMeta e', '5 immutable bool *e', '2 data map<bytes> e', '4 stringData map<string> e', '3 type string e',
  ],
  'core.v1.SecretEnvSource': ['1 - core.v1.LocalObjectReference i', '2 optional bool *e'],
  'core.v1.SecretKeySelector': ['1 - core.v1.LocalObjectReference i', '2 key string', '3 optional bool *e'],
  'core.v1.SecretProjection': ['1 - core.v1.LocalObjectReference i', '2 items []core.v1.KeyToPath e', '4 optional bool *e'],
  'core.v1.SecretVolumeSource': [
    '1 secretName string e', '2 items []core.v1.KeyToPath e', '3 defaultMode int32 *e', '4 optional bool *e', '5 defaultUser int64 *e',
  ],
  'core.v1.SecurityContext': [
    '1 capabilities core.v1.Capabilities *e', '2 privileged bool *e', '3 seLinuxOptions core.v1.SELinuxOptions *e',
    '10 windowsOptions core.v1.WindowsSecurityContextOptions *e', '4 runAsUser int64 *e', '8 runAsGroup int64 *e', '5 runAsNonRoot bool *e',
    '6 readOnlyRootFilesystem bool *e', '7 allowPrivilegeEscalation bool *e', '9 procMount string *e', '11 seccompProfile core.v1.SeccompProfile *e',
    '12 appArmorProfile core.v1.AppArmorProfile *e',
  ],
  'core.v1.Service': ['1 metadata meta.v1.ObjectMeta e', '2 spec core.v1.ServiceSpec e', '3 status core.v1.ServiceStatus e'],
  'core.v1.ServiceAccount': [
    '1 metadata meta.v1.ObjectMeta e', '2 secrets []core.v1.ObjectReference e', '3 imagePullSecrets []core.v1.LocalObjectReference e',
    '4 automountServiceAccountToken bool *e',
  ],
  'core.v1.ServiceAccountTokenProjection': ['1 audience string e', '2 expirationSeconds int64 *e', '3 path string', '4 user int64 *e'],
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
  'core.v1.SleepAction': ['1 seconds int64'],
  'core.v1.StorageOSVolumeSource': [
    '1 volumeName string e', '2 volumeNamespace string e', '3 fsType string e', '4 readOnly bool e', '5 secretRef core.v1.LocalObjectReference *e',
  ],
  'core.v1.Sysctl': ['1 name string', '2 value string'],
  'core.v1.TCPSocketAction': ['1 port IntOrString', '2 host string e'],
  'core.v1.Taint': ['1 key string', '2 value string e', '3 effect string', '4 timeAdded Time *e'],
  'core.v1.Toleration': ['1 key string e', '2 operator string e', '3 value string e', '4 effect string e', '5 tolerationSeconds int64 *e'],
  'core.v1.TopologySpreadConstraint': [
    '1 maxSkew int32', '2 topologyKey string', '3 whenUnsatisfiable string', '4 labelSelector meta.v1.LabelSelector *e', '5 minDomains int32 *e',
    '6 nodeAffinityPolicy string *e', '7 nodeTaintsPolicy string *e', '8 matchLabelKeys []string e',
  ],
  'core.v1.TypedLocalObjectReference': ['1 apiGroup string *', '2 kind string', '3 name string'],
  'core.v1.TypedObjectReference': ['1 apiGroup string *', '2 kind string', '3 name string', '4 namespace string *e'],
  'core.v1.Volume': ['1 name string', '2 - core.v1.VolumeSource i'],
  'core.v1.VolumeDevice': ['1 name string', '2 devicePath string'],
  'core.v1.VolumeHealthCondition': ['1 status string', '2 reason string', '3 message string e'],
  'core.v1.VolumeMount': [
    '1 name string', '2 readOnly bool e', '7 recursiveReadOnly string *e', '3 mountPath string', '4 subPath string e', '5 mountPropagation string *e',
    '6 subPathExpr string e', '8 bindMountOptions []string e',
  ],
  'core.v1.VolumeMountStatus': [
    '1 name string', '2 mountPath string', '3 readOnly bool e', '4 recursiveReadOnly string *e', '5 volumeStatus core.v1.VolumeStatus *e',
  ],
  'core.v1.VolumeProjection': [
    '1 secret core.v1.SecretProjection *e', '2 downwardAPI core.v1.DownwardAPIProjection *e', '3 configMap core.v1.ConfigMapProjection *e',
    '4 serviceAccountToken core.v1.ServiceAccountTokenProjection *e', '5 clusterTrustBundle core.v1.ClusterTrustBundleProjection *e',
    '6 podCertificate core.v1.PodCertificateProjection *e',
  ],
  'core.v1.VolumeResourceRequirements': ['1 limits map<Quantity> e', '2 requests map<Quantity> e'],
  'core.v1.VolumeSource': [
    '1 hostPath core.v1.HostPathVolumeSource *e', '2 emptyDir core.v1.EmptyDirVolumeSource *e',
    '3 gcePersistentDisk core.v1.GCEPersistentDiskVolumeSource *e', '4 awsElasticBlockStore core.v1.AWSElasticBlockStoreVolumeSource *e',
    '5 gitRepo core.v1.GitRepoVolumeSource *e', '6 secret core.v1.SecretVolumeSource *e', '7 nfs core.v1.NFSVolumeSource *e',
    '8 iscsi core.v1.ISCSIVolumeSource *e', '9 glusterfs core.v1.GlusterfsVolumeSource *e',
    '10 persistentVolumeClaim core.v1.PersistentVolumeClaimVolumeSource *e', '11 rbd core.v1.RBDVolumeSource *e',
    '12 flexVolume core.v1.FlexVolumeSource *e', '13 cinder core.v1.CinderVolumeSource *e', '14 cephfs core.v1.CephFSVolumeSource *e',
    '15 flocker core.v1.FlockerVolumeSource *e', '16 downwardAPI core.v1.DownwardAPIVolumeSource *e', '17 fc core.v1.FCVolumeSource *e',
    '18 azureFile core.v1.AzureFileVolumeSource *e', '19 configMap core.v1.ConfigMapVolumeSource *e',
    '20 vsphereVolume core.v1.VsphereVirtualDiskVolumeSource *e', '21 quobyte core.v1.QuobyteVolumeSource *e',
    '22 azureDisk core.v1.AzureDiskVolumeSource *e', '23 photonPersistentDisk core.v1.PhotonPersistentDiskVolumeSource *e',
    '26 projected core.v1.ProjectedVolumeSource *e', '24 portworxVolume core.v1.PortworxVolumeSource *e', '25 scaleIO core.v1.ScaleIOVolumeSource *e',
    '27 storageos core.v1.StorageOSVolumeSource *e', '28 csi core.v1.CSIVolumeSource *e', '29 ephemeral core.v1.EphemeralVolumeSource *e',
    '30 image core.v1.ImageVolumeSource *e',
  ],
  'core.v1.VolumeStatus': ['1 image core.v1.ImageVolumeStatus *e'],
  'core.v1.VsphereVirtualDiskVolumeSource': [
    '1 volumePath string', '2 fsType string e', '3 storagePolicyName string e', '4 storagePolicyID string e',
  ],
  'core.v1.WeightedPodAffinityTerm': ['1 weight int32', '2 podAffinityTerm core.v1.PodAffinityTerm'],
  'core.v1.WindowsSecurityContextOptions': [
    '1 gmsaCredentialSpecName string *e', '2 gmsaCredentialSpec string *e', '3 runAsUserName string *e', '4 hostProcess bool *e',
  ],
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

/** proto package (as used in MESSAGES) of each API group served. */
export const GROUP_PACKAGES: Readonly<Record<string, string>> = {
  '': 'core',
  apps: 'apps',
  batch: 'batch',
  'networking.k8s.io': 'networking',
  'rbac.authorization.k8s.io': 'rbac',
  'coordination.k8s.io': 'coordination',
  autoscaling: 'autoscaling',
  'meta.k8s.io': 'meta',
};

/** Kinds registered in every group version (AM pkg/apis/meta/v1/register.go AddToGroupVersion): option bodies. */
export const UNVERSIONED_KINDS: Readonly<Record<string, string>> = {
  DeleteOptions: 'meta.v1.DeleteOptions',
};

/** The kinds a request body may carry: the served kinds and the option/subresource kinds (DeleteOptions, Scale). */
export const TOP_LEVEL_MESSAGES: ReadonlySet<string> = new Set([
  'core.v1.Namespace', 'core.v1.ServiceAccount', 'core.v1.Secret', 'core.v1.ConfigMap', 'core.v1.Service', 'core.v1.Endpoints',
  'core.v1.Pod', 'core.v1.Event', 'core.v1.Node', 'rbac.v1.Role', 'rbac.v1.RoleBinding', 'rbac.v1.ClusterRole',
  'rbac.v1.ClusterRoleBinding', 'batch.v1.Job', 'apps.v1.Deployment', 'apps.v1.ReplicaSet', 'networking.v1.Ingress',
  'coordination.v1.Lease', 'meta.v1.DeleteOptions', 'autoscaling.v1.Scale',
]);

/** What a field row of MESSAGES means. */
export interface FieldSpec {
  num: number;
  /** JSON name; `-` for an inlined embedded struct. */
  json: string;
  /** Scalar, message (of MESSAGES), special (own JSON form) or unsupported (`!…`). */
  kind: 'scalar' | 'message' | 'special' | 'unsupported';
  /** Scalar type, message name, special name, or the unsupported proto message name. */
  type: string;
  repeated: boolean;
  map: boolean;
  pointer: boolean;
  omitEmpty: boolean;
  omitZero: boolean;
  inline: boolean;
}

export interface MessageSpec {
  name: string;
  /** Fields in Go struct (JSON) order. */
  fields: readonly FieldSpec[];
  byNumber: ReadonlyMap<number, FieldSpec>;
}

export const SCALAR_TYPES: ReadonlySet<string> = new Set([
  'string', 'bytes', 'bool', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64',
  'fixed32', 'fixed64', 'sfixed32', 'sfixed64', 'double', 'float',
]);

export const SPECIAL_TYPES: ReadonlySet<string> = new Set(['Time', 'MicroTime', 'Quantity', 'IntOrString', 'FieldsV1']);

/** Parses one row of MESSAGES (exported for the table's consistency test). */
export function parseField(row: string): FieldSpec {
  const [num, json, rawType, flags = '', ...rest] = row.split(' ');
  if (!num || !json || !rawType || rest.length || !/^\d+$/.test(num) || /[^*ezi]/.test(flags)) throw new Error(`malformed schema row '${row}'`);
  let type = rawType;
  const repeated = type.startsWith('[]');
  if (repeated) type = type.slice(2);
  const map = type.startsWith('map<') && type.endsWith('>');
  if (map) type = type.slice(4, -1);
  let kind: FieldSpec['kind'];
  if (type.startsWith('!')) {
    kind = 'unsupported';
    type = type.slice(1);
  } else if (SCALAR_TYPES.has(type)) kind = 'scalar';
  else if (SPECIAL_TYPES.has(type)) kind = 'special';
  else if (MESSAGES[type]) kind = 'message';
  else throw new Error(`schema row '${row}' refers to an unknown type ${type}`);
  return {
    num: Number(num),
    json,
    kind,
    type,
    repeated,
    map,
    pointer: flags.includes('*'),
    omitEmpty: flags.includes('e'),
    omitZero: flags.includes('z'),
    inline: flags.includes('i'),
  };
}

const parsed = new Map<string, MessageSpec>();

/** The parsed fields of a message of MESSAGES (undefined when the table has no such message). */
export function messageSpec(name: string): MessageSpec | undefined {
  let spec = parsed.get(name);
  if (spec) return spec;
  const rows = Object.hasOwn(MESSAGES, name) ? MESSAGES[name] : undefined;
  if (!rows) return undefined;
  const fields = rows.map(parseField);
  spec = { name, fields, byNumber: new Map(fields.map((f) => [f.num, f])) };
  parsed.set(name, spec);
  return spec;
}
