/**
 * The protobuf schema of core/v1 messages only a pod's volumes reach (VolumeSource and its sources, projections,
 * ephemeral claims). Row format and sources: ../schema.ts.
 */
import type { MessageTable } from '../schema.js';

export const CORE_V1_VOLUMES: MessageTable = {
  'core.v1.AWSElasticBlockStoreVolumeSource': ['1 volumeID string', '2 fsType string e', '3 partition int32 e', '4 readOnly bool e'],
  'core.v1.AzureDiskVolumeSource': [
    '1 diskName string', '2 diskURI string', '3 cachingMode string *e', '4 fsType string *e', '5 readOnly bool *e', '6 kind string *e',
  ],
  'core.v1.AzureFileVolumeSource': ['1 secretName string', '2 shareName string', '3 readOnly bool e'],
  'core.v1.CSIVolumeSource': [
    '1 driver string', '2 readOnly bool *e', '3 fsType string *e', '4 volumeAttributes map<string> e',
    '5 nodePublishSecretRef core.v1.LocalObjectReference *e',
  ],
  'core.v1.CephFSVolumeSource': [
    '1 monitors []string', '2 path string e', '3 user string e', '4 secretFile string e', '5 secretRef core.v1.LocalObjectReference *e',
    '6 readOnly bool e',
  ],
  'core.v1.CinderVolumeSource': ['1 volumeID string', '2 fsType string e', '3 readOnly bool e', '4 secretRef core.v1.LocalObjectReference *e'],
  'core.v1.ClusterTrustBundleProjection': [
    '1 name string *e', '2 signerName string *e', '3 labelSelector meta.v1.LabelSelector *e', '5 optional bool *e', '4 path string',
    '6 user int64 *e',
  ],
  'core.v1.ConfigMapProjection': ['1 - core.v1.LocalObjectReference i', '2 items []core.v1.KeyToPath e', '4 optional bool *e'],
  'core.v1.ConfigMapVolumeSource': [
    '1 - core.v1.LocalObjectReference i', '2 items []core.v1.KeyToPath e', '3 defaultMode int32 *e', '4 optional bool *e', '5 defaultUser int64 *e',
  ],
  'core.v1.DownwardAPIProjection': ['1 items []core.v1.DownwardAPIVolumeFile e'],
  'core.v1.DownwardAPIVolumeFile': [
    '1 path string', '2 fieldRef core.v1.ObjectFieldSelector *e', '3 resourceFieldRef core.v1.ResourceFieldSelector *e', '4 mode int32 *e',
    '5 user int64 *e',
  ],
  'core.v1.DownwardAPIVolumeSource': ['1 items []core.v1.DownwardAPIVolumeFile e', '2 defaultMode int32 *e', '3 defaultUser int64 *e'],
  'core.v1.EmptyDirVolumeSource': ['1 medium string e', '2 sizeLimit Quantity *e', '3 mode int32 *e'],
  'core.v1.EphemeralVolumeSource': ['1 volumeClaimTemplate core.v1.PersistentVolumeClaimTemplate *e'],
  'core.v1.FCVolumeSource': ['1 targetWWNs []string e', '2 lun int32 *e', '3 fsType string e', '4 readOnly bool e', '5 wwids []string e'],
  'core.v1.FlexVolumeSource': [
    '1 driver string', '2 fsType string e', '3 secretRef core.v1.LocalObjectReference *e', '4 readOnly bool e', '5 options map<string> e',
  ],
  'core.v1.FlockerVolumeSource': ['1 datasetName string e', '2 datasetUUID string e'],
  'core.v1.GCEPersistentDiskVolumeSource': ['1 pdName string', '2 fsType string e', '3 partition int32 e', '4 readOnly bool e'],
  'core.v1.GitRepoVolumeSource': ['1 repository string', '2 revision string e', '3 directory string e'],
  'core.v1.GlusterfsVolumeSource': ['1 endpoints string', '2 path string', '3 readOnly bool e'],
  'core.v1.HostPathVolumeSource': ['1 path string', '2 type string *e'],
  'core.v1.ISCSIVolumeSource': [
    '1 targetPortal string', '2 iqn string', '3 lun int32', '4 iscsiInterface string e', '5 fsType string e', '6 readOnly bool e',
    '7 portals []string e', '8 chapAuthDiscovery bool e', '11 chapAuthSession bool e', '10 secretRef core.v1.LocalObjectReference *e',
    '12 initiatorName string *e',
  ],
  'core.v1.ImageVolumeSource': ['1 reference string e', '2 pullPolicy string e'],
  'core.v1.KeyToPath': ['1 key string', '2 path string', '3 mode int32 *e', '4 user int64 *e'],
  'core.v1.NFSVolumeSource': ['1 server string', '2 path string', '3 readOnly bool e'],
  'core.v1.PersistentVolumeClaimSpec': [
    '1 accessModes []string e', '4 selector meta.v1.LabelSelector *e', '2 resources core.v1.VolumeResourceRequirements e', '3 volumeName string e',
    '5 storageClassName string *e', '6 volumeMode string *e', '7 dataSource core.v1.TypedLocalObjectReference *e',
    '8 dataSourceRef core.v1.TypedObjectReference *e', '9 volumeAttributesClassName string *e',
  ],
  'core.v1.PersistentVolumeClaimTemplate': ['1 metadata meta.v1.ObjectMeta e', '2 spec core.v1.PersistentVolumeClaimSpec'],
  'core.v1.PersistentVolumeClaimVolumeSource': ['1 claimName string', '2 readOnly bool e'],
  'core.v1.PhotonPersistentDiskVolumeSource': ['1 pdID string', '2 fsType string e'],
  'core.v1.PodCertificateProjection': [
    '1 signerName string e', '2 keyType string e', '3 maxExpirationSeconds int32 *e', '4 credentialBundlePath string e', '5 keyPath string e',
    '6 certificateChainPath string e', '7 userAnnotations map<string> e', '8 user int64 *e',
  ],
  'core.v1.PortworxVolumeSource': ['1 volumeID string', '2 fsType string e', '3 readOnly bool e'],
  'core.v1.ProjectedVolumeSource': ['1 sources []core.v1.VolumeProjection', '2 defaultMode int32 *e', '3 defaultUser int64 *e'],
  'core.v1.QuobyteVolumeSource': [
    '1 registry string', '2 volume string', '3 readOnly bool e', '4 user string e', '5 group string e', '6 tenant string e',
  ],
  'core.v1.RBDVolumeSource': [
    '1 monitors []string', '2 image string', '3 fsType string e', '4 pool string e', '5 user string e', '6 keyring string e',
    '7 secretRef core.v1.LocalObjectReference *e', '8 readOnly bool e',
  ],
  'core.v1.ScaleIOVolumeSource': [
    '1 gateway string', '2 system string', '3 secretRef core.v1.LocalObjectReference *', '4 sslEnabled bool e', '5 protectionDomain string e',
    '6 storagePool string e', '7 storageMode string e', '8 volumeName string e', '9 fsType string e', '10 readOnly bool e',
  ],
  'core.v1.SecretProjection': ['1 - core.v1.LocalObjectReference i', '2 items []core.v1.KeyToPath e', '4 optional bool *e'],
  'core.v1.SecretVolumeSource': [
    '1 secretName string e', '2 items []core.v1.KeyToPath e', '3 defaultMode int32 *e', '4 optional bool *e', '5 defaultUser int64 *e',
  ],
  'core.v1.ServiceAccountTokenProjection': ['1 audience string e', '2 expirationSeconds int64 *e', '3 path string', '4 user int64 *e'],
  'core.v1.StorageOSVolumeSource': [
    '1 volumeName string e', '2 volumeNamespace string e', '3 fsType string e', '4 readOnly bool e', '5 secretRef core.v1.LocalObjectReference *e',
  ],
  'core.v1.TypedLocalObjectReference': ['1 apiGroup string *', '2 kind string', '3 name string'],
  'core.v1.TypedObjectReference': ['1 apiGroup string *', '2 kind string', '3 name string', '4 namespace string *e'],
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
  'core.v1.VsphereVirtualDiskVolumeSource': [
    '1 volumePath string', '2 fsType string e', '3 storagePolicyName string e', '4 storagePolicyID string e',
  ],
};
