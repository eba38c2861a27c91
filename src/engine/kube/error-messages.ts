/**
 * The words of KubeApiError's messages (errors.ts): what was being done to which object, the status or connection
 * failure, and a hint at the fix.
 */
import { KNOWN_KINDS } from './client-types.js';
import type { KubeApiErrorFields, KubeErrorCause, KubeTarget } from './errors.js';

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** The Status reason a status code stands for, when the server sent no Status. */
export function defaultReason(code: number): string {
  return REASONS[code] ?? `HTTP${code}`;
}

/** `Job 'stage-1' in namespace 'ml'`, `Jobs in namespace 'ml'`, `Namespace 'ml'`. */
export function describeTarget(t: KubeTarget): string {
  const what = t.name ? `${t.kind} '${t.name}'` : /^[a-z]/.test(t.kind) ? t.kind : pluralOf(t.kind);
  return t.namespace ? `${what} in namespace '${t.namespace}'` : what;
}

/** English plural of a Kind (`Job` -> `Jobs`, `Ingress` -> `Ingresses`, `Endpoints` stays). */
export function pluralOf(kind: string): string {
  if (/(s|x|ch|sh)$/.test(kind)) return kind === 'Endpoints' ? kind : `${kind}es`;
  if (/[^aeiou]y$/.test(kind)) return `${kind.slice(0, -1)}ies`;
  return `${kind}s`;
}

function renderCauses(causes: KubeErrorCause[]): string {
  return causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join('; ');
}

/** What RBAC was asked for a call, in its own words (`watch pods in namespace 'ml'`); undefined for discovery. */
function rbacRequest(f: KubeApiErrorFields): string | undefined {
  if (f.verb === 'discover') return undefined;
  const where = f.namespace ? ` in namespace '${f.namespace}'` : '';
  if (f.verb === 'read logs of') return `get pods/log${where}`;
  // A watch's target is named by its path's resource, which stands for itself when it is no known kind's.
  const resource = KNOWN_KINDS[f.kind]?.resource ?? f.kind.toLowerCase();
  // Server-side apply is a PATCH (and a create, when the object is new).
  return `${f.verb === 'apply' ? 'patch' : f.verb} ${resource}${where}`;
}

/** The one-line message of a KubeApiError: the verb, the object, the status or connection failure, and a hint. */
export function renderMessage(f: KubeApiErrorFields): string {
  const action = `${f.verb} ${describeTarget(f)}`;
  if (f.statusCode !== undefined) {
    const head = `Kubernetes API refused to ${action}: ${f.statusCode} ${f.reason ?? defaultReason(f.statusCode)}`;
    const hint = hintForStatus(f);
    const msg = f.serverMessage ? ` — ${f.serverMessage}` : '';
    return head + msg + (hint ? (msg ? '; ' : ' — ') + hint : '');
  }
  if (f.errorCode) {
    const server = f.server ? ` ${f.server}` : ' the API server';
    return `Could not ${action}: ${connectionText(f.errorCode, server)}`;
  }
  return `Could not ${action}: ${f.serverMessage ?? 'unknown error'}${f.serverMessage?.includes('HTTP protocol is not allowed') ? ' (set insecure-skip-tls-verify: true on the cluster in the kubeconfig to use http://, or use https://)' : ''}`;
}

function hintForStatus(f: KubeApiErrorFields): string {
  const causes = f.causes;
  switch (f.statusCode) {
    case 401:
      return 'the credentials in the kubeconfig are missing, invalid or expired; refresh the token or kubeconfig';
    case 403: {
      if (causes.some((c) => c.reason === 'NamespaceTerminating')) return `namespace '${f.namespace ?? ''}' is being deleted: wait for it to go or deploy to another namespace`;
      // A refusal with no Status to say what was refused (client-node's Watch drops a refused watch's answer): say it.
      const refused = f.serverMessage ? undefined : rbacRequest(f);
      if (refused) return `the deploying identity cannot ${refused}: grant it with a Role and RoleBinding (RBAC)`;
      return 'the deploying identity lacks this permission: grant it with a Role and RoleBinding (RBAC)';
    }
    case 404:
      if (f.serverMessage?.startsWith('namespaces ') && f.kind !== 'Namespace') return `create namespace '${f.namespace ?? ''}' first or deploy to an existing one`;
      if (f.serverMessage === 'the server could not find the requested resource') return `the cluster does not serve ${f.kind} at this API version`;
      return 'it does not exist (yet, or any more)';
    case 409:
      if (f.reason === 'AlreadyExists') return 'an object with this name exists already';
      if (causes.some((c) => c.reason === 'FieldManagerConflict')) return 'another field manager owns these fields: apply with force to take them over';
      return 'the object changed while it was being updated: read it again and retry';
    case 410:
      return 'the resourceVersion is too old: list again';
    case 400:
      // client-node lower-cases the whole request path (src/object.ts specUriPath).
      if (f.serverMessage?.includes('does not match the name on the URL')) return 'object names must be lower case (DNS-1123), and client-node lower-cases request paths';
      return '';
    case 422: {
      // The Status message usually lists every cause already; name the ones it does not.
      const unmentioned = causes.filter((c) => !f.serverMessage?.includes(c.field ? `${c.field}: ${c.message}` : c.message));
      return unmentioned.length > 0 ? `invalid: ${renderCauses(unmentioned)}` : '';
    }
    case 429:
      return `the API server is throttling requests${f.retryAfterSeconds ? ` (retry after ${f.retryAfterSeconds} s)` : ''}`;
    case 500:
    case 502:
    case 503:
    case 504:
      return 'the API server failed to answer, which is usually temporary: try again';
    default:
      return '';
  }
}

function connectionText(code: string, server: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by${server} — is the cluster reachable at this address (check the kubeconfig's cluster server URL)?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name of${server} does not resolve (${code}) — check the kubeconfig's cluster server URL and the network`;
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return `the connection to${server} was reset (${code}) — the API server or a proxy closed it`;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return `${server.trim()} did not answer in time (${code}) — is the cluster reachable from here (firewall, VPN, private endpoint)?`;
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return `no route to${server} (${code}) — is the cluster reachable from this network?`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `TLS certificate of${server} is not trusted (${code}) — set certificate-authority-data for the cluster in the kubeconfig`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `TLS certificate of${server} does not match its host name (${code}) — use the host name the certificate was issued for, or set tls-server-name in the kubeconfig`;
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return `TLS certificate of${server} is not valid now (${code}) — check the cluster's certificate and this machine's clock`;
    default:
      return `connection to${server} failed (${code})`;
  }
}
