/**
 * Files never shipped to the cluster, tracked or not: credentials that tools and cloud-auth actions leave in a
 * workspace. The one list of them, in gitignore syntax (matched with `ignore`), each with why it is left out.
 */
import ignoreModule, { type Ignore } from 'ignore';

// A CommonJS package: its typings put the function at `default` (which the package also sets at run time).
const ignore = ignoreModule.default;

export const SENSITIVE_FILES: readonly { pattern: string; reason: string }[] = [
  { pattern: '.env*', reason: 'a dotenv file (.env, .env.local, ...): environment secrets' },
  { pattern: '.npmrc', reason: 'npm configuration, which holds registry tokens' },
  { pattern: '.pypirc', reason: 'PyPI configuration, which holds upload tokens' },
  { pattern: '.netrc', reason: 'machine passwords for curl, git and pip' },
  { pattern: '.git-credentials', reason: "git's stored credentials" },
  { pattern: 'id_rsa', reason: 'an SSH private key' },
  { pattern: 'id_dsa', reason: 'an SSH private key' },
  { pattern: 'id_ecdsa', reason: 'an SSH private key' },
  { pattern: 'id_ed25519', reason: 'an SSH private key' },
  { pattern: '*.pem', reason: 'a PEM file: private keys and certificates' },
  { pattern: '*.key', reason: 'a private key file' },
  { pattern: '*.p12', reason: 'a PKCS#12 key store' },
  { pattern: '*.pfx', reason: 'a PKCS#12 key store' },
  { pattern: 'kubeconfig', reason: 'a kubeconfig: cluster credentials' },
  { pattern: '*.kubeconfig', reason: 'a kubeconfig: cluster credentials' },
  { pattern: '.kube/', reason: 'kubectl configuration: cluster credentials' },
  { pattern: 'gha-creds-*.json', reason: 'credentials written by google-github-actions/auth' },
  { pattern: '.aws/', reason: 'AWS CLI credentials' },
  { pattern: '.ssh/', reason: 'an SSH folder: private keys, known hosts' },
  { pattern: '.gnupg/', reason: 'a GnuPG folder: private keys' },
  { pattern: '**/.docker/config.json', reason: 'Docker configuration, which holds registry credentials' },
];

const matchers: { matcher: Ignore; reason: string }[] = SENSITIVE_FILES.map(({ pattern, reason }) => ({ matcher: ignore().add(pattern), reason }));

/** Why `path` (relative to the project, forward slashes) must not be shipped, or `undefined` when it may be. */
export function sensitiveReason(path: string): string | undefined {
  return matchers.find(({ matcher }) => matcher.ignores(path))?.reason;
}
