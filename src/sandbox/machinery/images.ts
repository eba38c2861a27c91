/**
 * Image references as upstream reads them: the kubelet (K pkg/util/parsers ParseImageName) and the runtime (containerd)
 * both normalise with distribution/reference's ParseNormalizedNamed, then default the tag (TagNameOnly). The kubelet's
 * container statuses report that full form, and one image written two ways (`busybox`, `docker.io/library/busybox:latest`)
 * is one image to them, so it is one image here too (the sandbox's per-image Python environments).
 */

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';

/**
 * The full reference (`busybox` -> `docker.io/library/busybox:latest`, `ghcr.io/o/i` -> `ghcr.io/o/i:latest`): the
 * first path component is the registry when it has a `.` or `:`, is `localhost` or has upper case (splitDockerDomain),
 * else the registry is docker.io; a reference with neither tag nor digest gets `:latest`. Empty stays empty.
 */
export function normalizeImage(image: string): string {
  const ref = image.trim();
  if (ref === '') return '';
  const slash = ref.indexOf('/');
  const first = slash >= 0 ? ref.slice(0, slash) : '';
  const hasDomain = slash >= 0 && (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first);
  let domain = hasDomain ? first : DEFAULT_DOMAIN;
  let rest = hasDomain ? ref.slice(slash + 1) : ref;
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !rest.includes('/')) rest = `${OFFICIAL_REPO_PREFIX}${rest}`;
  const name = rest.split('@')[0];
  const tagged = name.slice(name.lastIndexOf('/') + 1).includes(':');
  return `${domain}/${rest}${tagged || rest.includes('@') ? '' : ':latest'}`;
}

/** The short form of the same reference, as docker prints it (FamiliarString): `docker.io/library/` dropped. */
export function familiarImage(image: string): string {
  const full = normalizeImage(image);
  const dockerHub = `${DEFAULT_DOMAIN}/`;
  if (!full.startsWith(dockerHub)) return full;
  const rest = full.slice(dockerHub.length);
  return rest.startsWith(OFFICIAL_REPO_PREFIX) && !rest.slice(OFFICIAL_REPO_PREFIX.length).split('@')[0].includes('/') ? rest.slice(OFFICIAL_REPO_PREFIX.length) : rest;
}
