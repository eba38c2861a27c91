/**
 * The sandbox's object store: an S3-compatible server for handing models from a training stage to a service, as
 * Bodywork's tutorial did with S3 and boto3. Pods share nothing through the host's files (each has its own /tmp), so
 * a project that passes files between stages needs a store both can reach, on a laptop as on a cluster.
 *
 * It is moto's server (the `moto` package from PyPI, `moto[server]`): a maintained, widely used S3 implementation
 * that boto3, the AWS CLI and s3fs speak to unchanged. It runs as a cluster add-on, a Deployment and a Service in
 * namespace `bodywork-sandbox`, on the node like any pod; its image's packages are installed on the node first
 * (SandboxNode.loadImage), as an image would be pulled, because pods have no route to PyPI.
 *
 * moto keeps objects in memory and accepts any credentials; the sandbox still hands out random ones, treated as
 * secrets, so that projects read them from a Secret exactly as they would for a real store.
 */

export const OBJECT_STORE = {
  namespace: 'bodywork-sandbox',
  name: 'object-store',
  /** The upstream image of moto's server, so the manifests also make sense on a cluster; pinned. */
  image: 'motoserver/moto:5.2.6',
  requirements: ['moto[server]==5.2.6'],
  /** Not 5000 (moto's default, and the Bodywork services' usual port): on the host network they would clash. */
  port: 9000,
  bucket: 'bodywork-models',
  region: 'us-east-1',
} as const;

/**
 * The keys a Secret for the object store holds: boto3's own environment variables (AWS_ENDPOINT_URL is read by boto3
 * >= 1.28; older ones take it as `endpoint_url`), plus the bucket.
 */
export const OBJECT_STORE_KEYS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_S3',
  'S3_BUCKET',
] as const;

export type ObjectStoreKey = (typeof OBJECT_STORE_KEYS)[number];

const LABELS = { 'app.kubernetes.io/name': OBJECT_STORE.name, 'app.kubernetes.io/part-of': 'bodywork-sandbox' };

/** The add-on's objects: its namespace, the server's Deployment and its Service. */
export function objectStoreManifests(): Record<string, unknown>[] {
  const { namespace, name, port } = OBJECT_STORE;
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: LABELS } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace, labels: LABELS },
      spec: {
        replicas: 1,
        selector: { matchLabels: { 'app.kubernetes.io/name': name } },
        template: {
          metadata: { labels: LABELS },
          spec: {
            terminationGracePeriodSeconds: 2,
            containers: [
              {
                name: 'moto',
                image: OBJECT_STORE.image,
                // The pod IP, not 0.0.0.0: on the sandbox's host-network fallback that is 127.0.0.1, never the LAN.
                command: ['moto_server', '-H', '$(POD_IP)', '-p', String(port)],
                env: [
                  { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                  // Requests to the Service's name are path-style: without this moto reads the host's first label
                  // (`object-store`) as a virtual-hosted bucket name.
                  { name: 'MOTO_S3_CUSTOM_ENDPOINTS', value: objectStoreClusterUrl() },
                ],
                ports: [{ name: 's3', containerPort: port }],
                readinessProbe: { tcpSocket: { port }, periodSeconds: 1, failureThreshold: 3 },
                resources: { requests: { cpu: '50m', memory: '128Mi' } },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace, labels: LABELS },
      spec: { selector: { 'app.kubernetes.io/name': name }, ports: [{ name: 's3', port, targetPort: port }] },
    },
  ];
}

/** The store's address inside the cluster (by Service name, which pods resolve when the node isolates them). */
export function objectStoreClusterUrl(): string {
  return `http://${OBJECT_STORE.name}.${OBJECT_STORE.namespace}:${OBJECT_STORE.port}`;
}

/** What a Secret for the store holds, given the endpoint pods use and the credentials. */
export function objectStoreSecretData(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }): Record<ObjectStoreKey, string> {
  return {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_DEFAULT_REGION: OBJECT_STORE.region,
    AWS_REGION: OBJECT_STORE.region,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ENDPOINT_URL_S3: endpoint,
    S3_BUCKET: OBJECT_STORE.bucket,
  };
}
