/**
 * Image pulls as the sandbox node emulates them. The node runs every "image" with the machine's Python, so nothing is
 * downloaded; what is emulated is whether a pull would succeed and how the kubelet reports it, so that private-registry
 * paths (pull secrets, unauthorized pulls, back-off) behave as on a cluster. Images of a configured private registry
 * need matching credentials from the pod's image pull secrets; every other image counts as public and present.
 *
 * Reported as upstream's kubelet image manager reports pulls (K pkg/kubelet/images/image_manager.go EnsureImageExists):
 * Normal `Pulling` "Pulling image "x"", Normal `Pulled` (already present, or successfully pulled), Warning `Failed`
 * "Failed to pull image "x": <runtime error>" with waiting reason ErrImagePull and the runtime's error as its message,
 * then, while the per-pod-and-image back-off lasts (10 s doubling to 300 s, reset after twice the cap without a
 * failure: client-go's flowcontrol.Backoff), Normal `BackOff` "Back-off pulling image "x"" with ImagePullBackOff.
 * The runtime errors are worded as containerd words them. Private images are checked against the pod's credentials on
 * every container start, present or not, as upstream does with KubeletEnsureSecretPulledImages (beta, on by default since 1.35).
 */
import { systemClock, type Clock } from '../machinery/clock.js';
import { Backoff } from './backoff.js';

/** A private registry the sandbox emulates: pulls from `server` need `username`/`password`. */
export interface PrivateRegistry {
  /** Registry host as image references name it: `ghcr.io`, `registry.example.com:5000`. */
  server: string;
  username: string;
  password: string;
  /** Images that exist there (`ghcr.io/acme/model:1`); absent: every image of the registry exists. */
  images?: string[];
}

export interface ImagePullerOptions {
  registries?: PrivateRegistry[];
  /** Pull back-off base and cap in ms (upstream 10 s and 300 s). */
  backOffBaseMs?: number;
  backOffMaxMs?: number;
  /** Time (default the system clock): tests step it by hand. */
  clock?: Pick<Clock, 'now'>;
}

/** One credential from a pod's pull secrets. */
export interface RegistryCredential {
  /** Host (and optional path) the credential is for, without scheme: `ghcr.io`, `docker.io`. */
  server: string;
  username: string;
  password: string;
}

export type PullOutcome =
  | { ok: true }
  | { ok: false; reason: 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull'; message: string; retryInMs?: number };

/** Records a pod event: `type`, `reason`, `message` (the kubelet's recorder, bound to the container). */
export type PullEventSink = (type: 'Normal' | 'Warning', reason: string, message: string) => void;

/** Docker Hub's host in image references, and the keys credentials for it are stored under. */
const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'index.docker.io/v1', 'registry.hub.docker.com']);

/** Whether the first path component of a reference names a registry host (else the reference is Docker Hub's). */
function namesHost(first: string): boolean {
  return first.includes('.') || first.includes(':') || first === 'localhost';
}

/** The registry host of an image reference: its first path component when that names a host, else Docker Hub. */
export function registryHost(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0 || !namesHost(image.slice(0, slash))) return DOCKER_HUB;
  return credentialHost(image.slice(0, slash));
}

/** A reference with host and tag made explicit (`busybox` -> `docker.io/library/busybox:latest`), for comparing. */
export function canonicalImage(image: string): string {
  const host = registryHost(image);
  const slash = image.indexOf('/');
  let rest = slash >= 0 && namesHost(image.slice(0, slash)) ? image.slice(slash + 1) : image;
  if (host === DOCKER_HUB && !rest.includes('/')) rest = `library/${rest}`;
  if (!hasTagOrDigest(rest)) rest = `${rest}:latest`;
  return `${host}/${rest}`;
}

function hasTagOrDigest(reference: string): boolean {
  return reference.includes('@') || reference.slice(reference.lastIndexOf('/') + 1).includes(':');
}

/** A credential key (`https://ghcr.io`, `ghcr.io/v2/`, `index.docker.io/v1/`) as the host it names. */
function credentialHost(key: string): string {
  const bare = key.trim().replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '').toLowerCase();
  if (DOCKER_HUB_ALIASES.has(bare)) return DOCKER_HUB;
  const host = bare.split('/')[0];
  return DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB : host;
}

/**
 * The credentials in an image pull Secret: `kubernetes.io/dockerconfigjson` (`.dockerconfigjson`, `{auths: {...}}`)
 * or the legacy `kubernetes.io/dockercfg` (`.dockercfg`, the map itself). Each entry's `username`/`password`, else its
 * `auth` (base64 `user:password`). Malformed data gives no credentials, as the kubelet skips a Secret it cannot parse.
 */
export function secretCredentials(secret: { type?: string; data?: Record<string, string> } | undefined): RegistryCredential[] {
  const data = secret?.data ?? {};
  let auths: unknown;
  try {
    if (data['.dockerconfigjson'] !== undefined) auths = JSON.parse(Buffer.from(data['.dockerconfigjson'], 'base64').toString('utf8'))?.auths;
    else if (data['.dockercfg'] !== undefined) auths = JSON.parse(Buffer.from(data['.dockercfg'], 'base64').toString('utf8'));
  } catch {
    return [];
  }
  if (auths === null || typeof auths !== 'object') return [];
  const out: RegistryCredential[] = [];
  for (const [key, entry] of Object.entries(auths as Record<string, any>)) {
    if (entry === null || typeof entry !== 'object') continue;
    let { username, password } = entry as { username?: unknown; password?: unknown };
    if ((typeof username !== 'string' || typeof password !== 'string') && typeof entry.auth === 'string') {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) [username, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
    }
    if (typeof username === 'string' && typeof password === 'string') out.push({ server: credentialHost(key), username, password });
  }
  return out;
}

/** `1.234s`, `56ms`: the pull time in the Pulled message (Go's Duration.String for these ranges). */
function shortDuration(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${+(ms / 1000).toFixed(3)}s`;
}

/** The pulls of one node: which private images it holds, and the back-off of failed pulls per pod and image. */
export class ImagePuller {
  private readonly registries: Map<string, PrivateRegistry>;
  private readonly clock: Pick<Clock, 'now'>;
  /** Canonical references of the private images pulled so far. */
  private readonly present = new Set<string>();
  /** Failed pulls, keyed `<pod uid>_<image>`. */
  private readonly backOff: Backoff;

  constructor(opts: ImagePullerOptions = {}) {
    this.registries = new Map((opts.registries ?? []).map((r) => [credentialHost(r.server), r]));
    this.clock = opts.clock ?? systemClock;
    this.backOff = new Backoff(opts.backOffBaseMs ?? 10_000, opts.backOffMaxMs ?? 300_000, this.clock);
  }

  /**
   * Makes `image` available to a container of pod `podUid` with `credentials` (from its pull secrets), recording the
   * kubelet's events through `record`. `pullPolicy` is the container's imagePullPolicy.
   */
  ensure(podUid: string, image: string, pullPolicy: string | undefined, credentials: RegistryCredential[], record: PullEventSink): PullOutcome {
    const registry = this.registries.get(registryHost(image));
    if (registry === undefined) {
      // A public image: present, as every image always was on this node.
      record('Normal', 'Pulled', `Container image "${image}" already present on machine`);
      return { ok: true };
    }
    const ref = canonicalImage(image);
    const authorized = credentials.some((c) => c.server === credentialHost(registry.server) && c.username === registry.username && c.password === registry.password);
    if (pullPolicy === 'Never') {
      if (this.present.has(ref) && authorized) return this.alreadyPresent(image, record);
      const message = `Container image "${image}" is not present with pull policy of Never`;
      record('Warning', 'ErrImageNeverPull', message);
      return { ok: false, reason: 'ErrImageNeverPull', message };
    }
    const key = `${podUid}_${image}`;
    const now = this.clock.now();
    const backingOff = this.backOff.sinceUpdate(key);
    if (backingOff !== undefined) {
      const message = `Back-off pulling image "${image}"`;
      record('Normal', 'BackOff', message);
      return { ok: false, reason: 'ImagePullBackOff', message, retryInMs: backingOff };
    }
    // The API server's default: Always for `:latest` or no tag, else IfNotPresent, which uses the node's copy, but only
    // for a pod that could pull it.
    const policy = pullPolicy ?? (!hasTagOrDigest(image) || ref.endsWith(':latest') ? 'Always' : 'IfNotPresent');
    if (policy !== 'Always' && this.present.has(ref) && authorized) {
      return this.alreadyPresent(image, record);
    }
    record('Normal', 'Pulling', `Pulling image "${image}"`);
    const exists = registry.images === undefined || registry.images.some((i) => canonicalImage(i) === ref);
    const error = !authorized ? unauthorized(ref, registry) : !exists ? notFound(ref) : undefined;
    if (error !== undefined) {
      record('Warning', 'Failed', `Failed to pull image "${image}": ${error}`);
      return { ok: false, reason: 'ErrImagePull', message: error, retryInMs: this.backOff.next(key) };
    }
    this.present.add(ref);
    const took = Math.max(1, this.clock.now() - now);
    record('Normal', 'Pulled', `Successfully pulled image "${image}" in ${shortDuration(took)} (${shortDuration(took)} including waiting). Image size: ${imageSize(ref)} bytes.`);
    return { ok: true };
  }

  /** Forgets the back-off entries of a pod that is gone. */
  forget(podUid: string): void {
    this.backOff.forget((key) => key.startsWith(`${podUid}_`));
  }

  private alreadyPresent(image: string, record: PullEventSink): PullOutcome {
    record('Normal', 'Pulled', `Container image "${image}" already present on machine`);
    return { ok: true };
  }
}

/** containerd's error for a pull the registry refused: its token endpoint answered 401. */
function unauthorized(ref: string, registry: PrivateRegistry): string {
  const host = credentialHost(registry.server);
  const repository = ref.slice(host.length + 1).replace(/[:@].*$/, '');
  const scope = encodeURIComponent(`repository:${repository}:pull`);
  return (
    `rpc error: code = Unknown desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ` +
    `failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://${host}/token?scope=${scope}&service=${host}: 401 Unauthorized`
  );
}

/** containerd's error for a reference the registry does not have. */
function notFound(ref: string): string {
  return `rpc error: code = NotFound desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found`;
}

/** A stable made-up size for the Pulled message. */
function imageSize(ref: string): number {
  let h = 0;
  for (const ch of ref) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return 50_000_000 + (h % 200_000_000);
}
