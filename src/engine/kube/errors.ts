/**
 * Failures of Kubernetes API calls, translated into one readable line.
 *
 * client-node 2.x fails in three shapes: `ApiException` (`code`, `body` = raw response text holding a meta/v1
 * `Status`, `headers`; 401 has no body), the watch's plain `Error` with `statusCode` (no body), and undici's
 * `TypeError: fetch failed` whose `cause` carries the socket or TLS error code. `KubeApiError` keeps the structured
 * fields the engine needs (verb, object, status code, reason, causes, whether a retry can help) and a message that
 * names the verb, the object and a hint. It never carries request headers or credentials: only the Status body,
 * error codes and the server URL (without any user-info part). The messages' words are error-messages.ts.
 */
import { defaultReason, renderMessage } from './error-messages.js';

export { describeTarget, pluralOf } from './error-messages.js';

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
