/**
 * The root-CA publisher (K pkg/controller/certificates/rootcacertpublisher): a `kube-root-ca.crt` ConfigMap with the
 * API server's CA bundle in every namespace.
 */
import type { ClusterStore, KubeObject } from '../types.js';
import type { ControllerBaseOptions } from '../machinery/controller.js';
import { NamespaceObjectController } from './namespace-object.js';

/** kube-root-ca.crt's content for a cluster with no API server CA (in-process tests). */
const PLACEHOLDER_CA = '-----BEGIN CERTIFICATE-----\nMIIBsandboxCAnotARealCertificate\n-----END CERTIFICATE-----\n';

const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

export class RootCACertPublisher extends NamespaceObjectController {
  constructor(
    store: ClusterStore,
    private readonly rootCA: string = PLACEHOLDER_CA,
    opts: ControllerBaseOptions = {},
  ) {
    super(store, 'root-ca-cert-publisher', 'configmaps', 'kube-root-ca.crt', opts);
  }

  protected object(): KubeObject {
    return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', annotations: { 'kubernetes.io/description': DESCRIPTION } }, data: { 'ca.crt': this.rootCA } };
  }
}
