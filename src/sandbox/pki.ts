/**
 * The sandbox's PKI: one CA per sandbox, and the serving and client certificates it signs (the API server's serving
 * cert; the node agent's kubelet serving cert and the API server's kubelet client cert).
 *
 * Certificates are built with @peculiar/x509 (well kept, typed, on Node's own WebCrypto: no hand-written ASN.1, no
 * JavaScript RSA key generation) from ECDSA P-256 keys, which Go's crypto/tls (kubectl), Node's TLS and OpenSSL
 * (curl) all accept; generating one takes milliseconds. Keys are PKCS#8 PEM, certificates PEM.
 */
// @peculiar/x509 2.x resolves its ASN.1 providers through tsyringe, which needs a Reflect polyfill loaded first.
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

export interface PemPair {
  /** PEM certificate. */
  cert: string;
  /** PEM PKCS#8 private key (keep it 0600 when written to disk). */
  key: string;
}

export type CertificateAuthority = PemPair;

export interface CertificateRequest {
  commonName: string;
  /** Subject O: for a client certificate, the Kubernetes group of its user (e.g. `system:nodes`). */
  organization?: string;
  dnsNames: string[];
  ipAddresses: string[];
  usage: 'server' | 'client';
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
// @peculiar/x509 signs through Node's global WebCrypto (its default provider); keys are made with the same one.
const { subtle } = webcrypto;

const CA_DAYS = 3650;
// A sandbox lives hours at most; a year keeps a long-running one (a persistent dataDir) from expiring under its users.
const LEAF_DAYS = 365;
// Clocks of processes on one machine agree, but certificates dated "now" fail on a clock a second behind.
const BACKDATE_MS = 60 * 60 * 1000;

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + days * 86_400_000) };
}

/** A positive 128-bit serial (RFC 5280 4.1.2.2: at most 20 octets, non-negative: the top bit cleared). */
function serialNumber(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  return b.toString('hex');
}

/** An X.500 name from plain strings; JSON form, so commas or `=` in a value cannot add attributes. */
function name(commonName: string, organization?: string): x509.JsonName {
  const n: x509.JsonName = [];
  if (organization) n.push({ O: [organization] });
  n.push({ CN: [commonName] });
  return n;
}

async function keyPair(): Promise<webcrypto.CryptoKeyPair> {
  return subtle.generateKey(ALG, true, ['sign', 'verify']);
}

async function keyPem(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/** A self-signed CA certificate (path length 0: it signs leaf certificates only). */
export async function createCertificateAuthority(commonName: string): Promise<CertificateAuthority> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: name(commonName),
    ...validity(CA_DAYS),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
}

/** A leaf certificate signed by `ca`: serverAuth with the given SANs, or clientAuth (SANs optional). */
export async function issueCertificate(ca: CertificateAuthority, req: CertificateRequest): Promise<PemPair> {
  for (const ip of req.ipAddresses) if (!isIP(ip)) throw new Error(`issueCertificate: not an IP address: ${JSON.stringify(ip)}`);
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.key), ALG, false, ['sign']);
  const keys = await keyPair();
  const sans: x509.JsonGeneralName[] = [...req.dnsNames.map((value) => ({ type: 'dns' as const, value })), ...req.ipAddresses.map((value) => ({ type: 'ip' as const, value }))];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([req.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(caCert),
  ];
  // RFC 5280 4.2.1.6: a SAN extension is critical only when the subject is empty; here CN is always set.
  if (sans.length) extensions.push(new x509.SubjectAlternativeNameExtension(sans));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: name(req.commonName, req.organization),
    issuer: caCert.subject,
    ...validity(LEAF_DAYS),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALG,
    extensions,
  });
  return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
}

