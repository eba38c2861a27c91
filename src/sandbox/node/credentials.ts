/**
 * The certificates a control plane and its node need for each other, from one CA (pki.ts): the node's client
 * certificate (user system:node:<name>, group system:nodes, as the Node authorizer expects), the kubelet's serving
 * certificate (naming the node's IP and name), and the API server's kubelet client certificate.
 */
import { stringify } from 'yaml';
import { issueCertificate, type CertificateAuthority, type PemPair } from '../pki.js';

export interface NodeCredentials {
  node: PemPair;
  kubeletServing: PemPair;
  apiServerKubeletClient: PemPair;
}

export async function nodeCredentials(ca: CertificateAuthority, o: { nodeName: string; hostIP: string }): Promise<NodeCredentials> {
  const [node, kubeletServing, apiServerKubeletClient] = await Promise.all([
    issueCertificate(ca, { commonName: `system:node:${o.nodeName}`, organization: 'system:nodes', dnsNames: [], ipAddresses: [], usage: 'client' }),
    issueCertificate(ca, { commonName: o.nodeName, dnsNames: [o.nodeName, 'localhost'], ipAddresses: [o.hostIP], usage: 'server' }),
    issueCertificate(ca, { commonName: 'kube-apiserver-kubelet-client', organization: 'system:masters', dnsNames: [], ipAddresses: [], usage: 'client' }),
  ]);
  return { node, kubeletServing, apiServerKubeletClient };
}

/** A kubeconfig (YAML) that authenticates with a client certificate. */
export function certKubeconfig(server: string, caCert: string, client: PemPair, user: string): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'cluster', cluster: { server, 'certificate-authority-data': b64(caCert) } }],
    users: [{ name: user, user: { 'client-certificate-data': b64(client.cert), 'client-key-data': b64(client.key) } }],
    contexts: [{ name: 'node', context: { cluster: 'cluster', user } }],
    'current-context': 'node',
  });
}
