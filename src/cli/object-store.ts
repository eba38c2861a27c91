/**
 * `deploy --sandbox` and the sandbox's object store (sandbox/object-store.ts): which of the project's Secrets the
 * store can fill, starting it on a cluster, and the Secret values that point the stages at it. The same functions
 * start it on the upstream control plane in tests.
 */
import { randomBytes } from 'node:crypto';
import { runSecretRefs, loadKube, addSecret, errorMessage, type SecretInput, type KubeClient, type Manifest, type DeployPlan } from '../engine/index.js';
import { OBJECT_STORE, OBJECT_STORE_KEYS, objectStoreClusterUrl, objectStoreManifests, objectStoreSecretData } from '../sandbox/object-store.js';

/** The node the store runs on, as the sandbox and the test clusters describe it. */
export interface ObjectStoreHost {
  /** Pods in their own network namespaces (Service names resolve in pods); else on the host network. */
  isolated: boolean;
  loadImage(image: string, requirements: string[], opts?: { ownPackages?: boolean }): Promise<void>;
  serviceUrl(name: string, opts: { namespace: string }): Promise<string | undefined>;
}

export interface ObjectStore {
  /** The endpoint pods use. */
  endpoint: string;
  /** The same store from this machine. */
  hostUrl: string;
  bucket: string;
  /** What a Secret for the store holds (OBJECT_STORE_KEYS). */
  data: Record<string, string>;
}

const KNOWN = new Set<string>(OBJECT_STORE_KEYS);

/**
 * The Secrets the run reads that the store can fill: every key the stages read from it is one of OBJECT_STORE_KEYS,
 * and `given` has none of it. A Secret the user gave any key of (say a real AWS key id) is theirs to complete, and
 * one that also holds other keys is left to the user too, with the usual message.
 */
export function objectStoreSecretNames(plan: DeployPlan, given: SecretInput[]): string[] {
  const mentioned = new Set(given.map((s) => s.name));
  const keys = new Map<string, string[]>();
  for (const { ref } of runSecretRefs(plan)) keys.set(ref.secret, [...(keys.get(ref.secret) ?? []), ref.key]);
  return [...keys].filter(([name, read]) => !mentioned.has(name) && read.every((k) => KNOWN.has(k))).map(([name]) => name);
}

/** `given` plus the store's keys in each of `names` (merged into a Secret of `given` of that name, whose keys win). */
export function withObjectStoreSecrets(given: SecretInput[], names: string[], data: Record<string, string>): SecretInput[] {
  const out = given.map((s) => ({ name: s.name, data: { ...s.data } }));
  for (const name of names) {
    const own = out.find((s) => s.name === name);
    if (own) own.data = { ...data, ...own.data };
    else out.push({ name, data: { ...data } });
  }
  return out;
}

/**
 * Starts the store on the cluster `client` talks to (idempotent: applied with server-side apply), waits until it
 * serves, and makes sure its bucket exists. Credentials are new random ones, redacted from every message.
 */
export async function startObjectStore(client: KubeClient, host: ObjectStoreHost, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<ObjectStore> {
  const { namespace, name, bucket } = OBJECT_STORE;
  // A real image of moto has its own packages only: so has its venv (Debian's would clash with moto's).
  await host.loadImage(OBJECT_STORE.image, [...OBJECT_STORE.requirements], { ownPackages: true });
  for (const manifest of objectStoreManifests()) await client.apply(manifest as Manifest, { signal: opts.signal });
  // Ready endpoints rather than a ready Deployment: what the Service (and the bucket request below) needs.
  const { waitForObject } = await loadKube();
  await waitForObject<{ subsets?: { addresses?: unknown[] }[] } & Manifest, boolean>(
    { client, path: `/api/v1/namespaces/${namespace}/endpoints`, name },
    (e) => (e?.subsets ?? []).some((s) => (s.addresses ?? []).length > 0),
    { timeoutMs: opts.timeoutMs ?? 120_000, description: `the sandbox's object store (${namespace}/${name}) to be ready`, signal: opts.signal },
  );
  const hostUrl = await host.serviceUrl(name, { namespace });
  if (hostUrl === undefined) throw new Error(`the sandbox's object store has no Service URL (${namespace}/${name})`);
  await createBucket(hostUrl, bucket);
  const credentials = { accessKeyId: `SBX${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(24).toString('base64url') };
  addSecret(credentials.accessKeyId);
  addSecret(credentials.secretAccessKey);
  // Isolated pods resolve the Service's name; pods on the host network reach the host URL the node's proxy serves.
  const endpoint = host.isolated ? objectStoreClusterUrl() : hostUrl;
  return { endpoint, hostUrl, bucket, data: objectStoreSecretData(endpoint, credentials) };
}

/**
 * `PUT /<bucket>` without a signature: moto's server does not check credentials, and this client is the sandbox's own.
 * 409 (the bucket exists, from an earlier run on the same store) is fine.
 */
async function createBucket(hostUrl: string, bucket: string): Promise<void> {
  // The node's Service proxy learns of the new endpoints a moment after the API has them: a few short retries.
  let last = '';
  for (let attempt = 0; attempt < 10; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 200 * attempt));
    try {
      const res = await fetch(`${hostUrl}/${bucket}`, { method: 'PUT' });
      await res.arrayBuffer();
      if (res.ok || res.status === 409) return;
      last = `HTTP ${res.status}`;
      if (res.status < 500) break;
    } catch (error) {
      last = errorMessage(error);
    }
  }
  throw new Error(`creating bucket ${bucket} in the sandbox's object store failed: ${last}`);
}
