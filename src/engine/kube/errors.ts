/**
 * Failures of Kubernetes API calls, translated into one readable line.
 *
 * client-node 2.x fails in three shapes: `ApiException` (`code`, `body` = raw response text holding a meta/v1
 * `Status`, `headers`; 401 has no body), the watch's plain `Error` with `statusCode` (no body), and undici's
 * `TypeError: fetch failed` whose `cause` carries the socket or TLS error code. `KubeApiError` keeps the structured
 * fields the engine needs (verb, object, status code, reason, causes, whether a retry can help) and a message that
 * names the verb, the object and a hint. It never carries request headers or credentials: only the Status body,
 * error codes and the server URL (without any user-info part).
 */

/** What the engine was doing when a call failed, used in messages and retry decisions. */
export type KubeVerb = 'get' | 'list' | 'watch' | 'create' | 'apply' | 'update' | 'patch' | 'delete' | 'read logs of' | 'discover';

/** The object (or collection) a call was about. */
export interface KubeTarget {
  /** Kind, e.g. `Job`; for discovery the API group/version. */
  kind: string;
  namespace?: string;
  name?: string;
}

/** One field problem of a 422 Invalid (or a Forbidden/Conflict cause). */
export interface KubeErrorCause {
  field?: string;
  message: string;
  reason?: string;
}

/** meta/v1 Status, as far as the engine reads it. */
export interface KubeStatus {
  kind?: string;
  status?: string;
  code?: number;
  reason?: string;
  message?: string;
  details?: { name?: string; group?: string; kind?: string; causes?: { field?: string; message?: string; reason?: string }[]; retryAfterSeconds?: number };
}

/**
 * Whether the request reached the server: `no` for failures before a byte was sent (connection refused, DNS, TLS
 * handshake), `yes` when the server answered, `maybe` when the connection broke mid-request.
 */
export type RequestDelivery = 'no' | 'maybe' | 'yes';

export interface KubeApiErrorFields extends KubeTarget {
  verb: KubeVerb;
  /** HTTP status, when the server answered. */
  statusCode?: number;
  /** Status reason (`NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `Forbidden`, `Expired`, …). */
  reason?: string;
  /** The Status message as the server wrote it. */
  serverMessage?: string;
  causes: KubeErrorCause[];
  /** A retry with the same request may succeed (5xx, 429, connection reset/timeout, connection refused). */
  retryable: boolean;
  /** From the Retry-After header or Status details (429, some 503s). */
  retryAfterSeconds?: number;
  /** Socket/TLS/undici error code for connection failures (`ECONNREFUSED`, `DEPTH_ZERO_SELF_SIGNED_CERT`, …). */
  errorCode?: string;
  delivery: RequestDelivery;
  /** The API server URL, for connection failures. */
  server?: string;
}

/**
 * A failed Kubernetes API call, with a one-line message naming the verb, the object and a hint.
 * The object's name is `objectName` (`Error.name` is the class name, `KubeApiError`).
 */
export class KubeApiError extends Error {
  readonly verb: KubeVerb;
  readonly kind: string;
  readonly namespace?: string;
  readonly objectName?: string;
  readonly statusCode?: number;
  readonly reason?: string;
  readonly serverMessage?: string;
  readonly causes: KubeErrorCause[];
  readonly retryable: boolean;
  readonly retryAfterSeconds?: number;
  readonly errorCode?: string;
  readonly delivery: RequestDelivery;
  readonly server?: string;

  constructor(fields: KubeApiErrorFields) {
    super(renderMessage(fields));
    this.name = 'KubeApiError';
    this.verb = fields.verb;
    this.kind = fields.kind;
    this.namespace = fields.namespace;
    this.objectName = fields.name;
    this.statusCode = fields.statusCode;
    this.reason = fields.reason;
    this.serverMessage = fields.serverMessage;
    this.causes = fields.causes;
    this.retryable = fields.retryable;
    this.retryAfterSeconds = fields.retryAfterSeconds;
    this.errorCode = fields.errorCode;
    this.delivery = fields.delivery;
    this.server = fields.server;
  }

  /** A 404 NotFound. */
  get isNotFound(): boolean {
    return this.statusCode === 404;
  }
  /** A 409 AlreadyExists (create of an existing object). */
  get isAlreadyExists(): boolean {
    return this.statusCode === 409 && this.reason === 'AlreadyExists';
  }
  /** A 409 Conflict (stale resourceVersion, or a server-side apply field conflict). */
  get isConflict(): boolean {
    return this.statusCode === 409 && this.reason !== 'AlreadyExists';
  }
  /** 410 Gone/Expired: a watch or list resourceVersion too old. */
  get isExpired(): boolean {
    return this.statusCode === 410;
  }
}

/** Is `err` a KubeApiError with this HTTP status? */
export function isKubeStatus(err: unknown, statusCode: number): err is KubeApiError {
  return err instanceof KubeApiError && err.statusCode === statusCode;
}

// ---------------------------------------------------------------------------------------------------------------
// Classification

/** Connection error codes whose request never left this machine. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'EADDRNOTAVAIL']);
/** Connection errors worth retrying. ENOTFOUND is not (a wrong host name stays wrong); TLS errors are not. */
const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

/** The errno-like code of a connection failure, looking through `fetch failed` causes and AggregateErrors. */
export function connectionErrorCode(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  const visit = (e: unknown): string | undefined => {
    if (!e || typeof e !== 'object' || seen.has(e)) return undefined;
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    const fromCause = visit((e as { cause?: unknown }).cause);
    if (fromCause) return fromCause;
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors)) for (const x of errors) {
      const c = visit(x);
      if (c) return c;
    }
    return undefined;
  };
  return visit(err);
}

/** The server's Status in a response body (text or object), if it is one. */
export function parseStatus(body: unknown): KubeStatus | undefined {
  let v = body;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return undefined;
    }
  }
  if (v && typeof v === 'object' && (v as KubeStatus).kind === 'Status') return v as KubeStatus;
  return undefined;
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? String(v[0]) : String(v);
  }
  return undefined;
}

/** Strips user-info (`https://user:pass@host`) from a server URL before it goes into a message. */
export function safeServerUrl(server: string | undefined): string | undefined {
  if (!server) return undefined;
  try {
    const u = new URL(server);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return server.replace(/\/\/[^/@]*@/, '//');
  }
}

/** The context a failure is translated in. */
export interface FailureContext extends KubeTarget {
  verb: KubeVerb;
  /** API server URL (for connection failures). */
  server?: string;
}

/**
 * Turns anything a client-node call can throw into a `KubeApiError` (returned as is when it already is one).
 * `ApiException` (code + Status body), watch errors (`statusCode`), Status objects from watch ERROR events, and
 * connection errors are understood; anything else becomes a non-retryable error keeping its message.
 */
export function toKubeApiError(err: unknown, ctx: FailureContext): KubeApiError {
  if (err instanceof KubeApiError) return err;
  const base = { verb: ctx.verb, kind: ctx.kind, namespace: ctx.namespace, name: ctx.name };
  const e = err as { code?: unknown; statusCode?: unknown; body?: unknown; headers?: unknown; message?: unknown; name?: unknown };

  // A Status (watch ERROR event object, or an ApiException body).
  const statusObject = parseStatus(err);
  const httpCode =
    typeof e?.code === 'number' ? e.code : typeof e?.statusCode === 'number' ? e.statusCode : statusObject?.code !== undefined ? statusObject.code : undefined;
  if (httpCode !== undefined && httpCode > 0) {
    const status = statusObject ?? parseStatus(e.body);
    const headerRetry = Number(headerValue(e.headers, 'retry-after'));
    const retryAfterSeconds =
      Number.isFinite(headerRetry) && headerRetry > 0 ? headerRetry : status?.details?.retryAfterSeconds && status.details.retryAfterSeconds > 0 ? status.details.retryAfterSeconds : undefined;
    return new KubeApiError({
      ...base,
      statusCode: httpCode,
      reason: status?.reason ?? defaultReason(httpCode),
      serverMessage: status?.message,
      causes: (status?.details?.causes ?? []).map((c) => ({ field: c.field, message: c.message ?? '', reason: c.reason })),
      retryable: RETRYABLE_STATUS.has(httpCode),
      retryAfterSeconds,
      delivery: 'yes',
    });
  }

  const code = connectionErrorCode(err);
  if (code && (RETRYABLE_CODES.has(code) || NOT_SENT_CODES.has(code) || TLS_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.startsWith('UND_ERR'))) {
    return new KubeApiError({
      ...base,
      causes: [],
      errorCode: code,
      retryable: RETRYABLE_CODES.has(code),
      delivery: NOT_SENT_CODES.has(code) || isTlsCode(code) ? 'no' : 'maybe',
      server: safeServerUrl(ctx.server),
      serverMessage: undefined,
    });
  }

  // Everything else (kubeconfig problems such as "HTTP protocol is not allowed…", exec plugin failures, bugs).
  const message = typeof e?.message === 'string' ? firstLine(e.message) : String(err);
  return new KubeApiError({ ...base, causes: [], retryable: false, delivery: 'no', serverMessage: message, server: safeServerUrl(ctx.server) });
}

function isTlsCode(code: string): boolean {
  return TLS_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.startsWith('CERT_');
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}

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

function defaultReason(code: number): string {
  return REASONS[code] ?? `HTTP${code}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Messages

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

function renderMessage(f: KubeApiErrorFields): string {
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
