/**
 * Kubeconfig content before client-node reads it: its decoding and the error for one that cannot be used. Apart from
 * kubeconfig.ts so the action can mask a kubeconfig input, and recognise the error, without loading client-node.
 */

/** A kubeconfig that cannot be used; the message says what to fix. */
export class KubeConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeConfigError';
  }
}

/** Plain YAML/JSON as is; otherwise base64 (standard or URL-safe, whitespace allowed) decoded. */
export function decodeContent(content: string): string {
  const trimmed = content.trim();
  if (/^[A-Za-z0-9+/=_\-\s]+$/.test(trimmed) && !/[:{]/.test(trimmed)) {
    const decoded = Buffer.from(trimmed.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (/^\s*(apiVersion|kind|clusters|contexts|users|current-context|preferences|\{|---)/m.test(decoded)) return decoded;
    throw new KubeConfigError('the kubeconfig content is neither YAML nor base64-encoded YAML');
  }
  return content;
}
