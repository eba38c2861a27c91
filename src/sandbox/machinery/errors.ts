/**
 * Kubernetes `Status` failures, shaped exactly as the real API server sends them.
 *
 * Constructors follow AM pkg/api/errors/errors.go (NewNotFound, NewAlreadyExists, NewConflict, NewInvalid,
 * NewForbidden, NewBadRequest, NewResourceExpired, NewMethodNotSupported, …) and the field error wording of
 * AM pkg/util/validation/field/errors.go. `details.kind` is the resource plural for NotFound/AlreadyExists/Conflict/
 * Forbidden (they take a GroupResource) but the Kind for Invalid (it takes a GroupKind).
 */

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** The JSON body of a failure (meta/v1 Status). */
export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export class StatusError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: StatusDetails | undefined;

  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.name = 'StatusError';
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  get causes(): StatusCause[] | undefined {
    return this.details?.causes;
  }

  /** The Status object as served on the wire (field order as the real server's JSON). */
  toStatus(): StatusBody {
    // Field order as the Go encoder writes metav1.Status; empty reason/details are omitted.
    const body: StatusBody = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, code: 0 };
    if (this.reason) body.reason = this.reason;
    if (this.details && Object.keys(this.details).length > 0) body.details = this.details;
    delete (body as Partial<StatusBody>).code;
    body.code = this.code;
    return body;
  }
}

export function isStatusError(e: unknown): e is StatusError {
  return e instanceof StatusError;
}

/** A resource the way errors name it: plural + group ("deployments" in "apps" prints as `deployments.apps`). */
export interface GroupResource {
  group: string;
  resource: string;
}

/** A kind the way Invalid names it: `Deployment.apps`, `Pod`. */
export interface GroupKind {
  group: string;
  kind: string;
}

function qualifiedResource(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

function qualifiedKind(gk: GroupKind): string {
  return gk.group ? `${gk.kind}.${gk.group}` : gk.kind;
}

function detailsFor(gr: GroupResource, name: string): StatusDetails {
  const d: StatusDetails = {};
  if (name) d.name = name;
  if (gr.group) d.group = gr.group;
  d.kind = gr.resource;
  return d;
}

export function notFound(gr: GroupResource, name: string): StatusError {
  return new StatusError(404, 'NotFound', `${qualifiedResource(gr)} "${name}" not found`, detailsFor(gr, name));
}

export function alreadyExists(gr: GroupResource, name: string): StatusError {
  return new StatusError(409, 'AlreadyExists', `${qualifiedResource(gr)} "${name}" already exists`, detailsFor(gr, name));
}

/** AS pkg/registry/generic/registry/store.go OptimisticLockErrorMsg. */
export const OPTIMISTIC_LOCK_MSG = 'the object has been modified; please apply your changes to the latest version and try again';

export function conflict(gr: GroupResource, name: string, reason: string = OPTIMISTIC_LOCK_MSG): StatusError {
  return new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${reason}`, detailsFor(gr, name));
}

// ---------------------------------------------------------------------------------------------------------------
// Field errors (AM pkg/util/validation/field/errors.go)

export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueNotFound'
  | 'FieldValueTypeInvalid';

export interface FieldError {
  type: FieldErrorType;
  field: string;
  /** What `ErrorBody()` prints after the type, e.g. `Invalid value: "x": detail`. */
  body: string;
}

const typeText: Record<FieldErrorType, string> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueNotFound: 'Not found',
  FieldValueTypeInvalid: 'Invalid value',
};

/**
 * Renders a bad value like Go's fmt does in ErrorBody: strings quoted, numbers/bools bare, string maps as
 * `map[string]string{"a":"b"}` (keys sorted as fmt sorts them). Other structures are Go `%#v` struct dumps upstream
 * (e.g. `core.PodTemplateSpec{ObjectMeta:…}`) which cannot be reproduced from JSON; we print compact JSON instead.
 */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every((x) => typeof x === 'string')) {
    const entries = Object.keys(v as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${JSON.stringify((v as Record<string, string>)[k])}`);
    return `map[string]string{${entries.join(', ')}}`;
  }
  return JSON.stringify(v);
}

export const field = {
  required(path: string, detail = ''): FieldError {
    return { type: 'FieldValueRequired', field: path, body: typeText.FieldValueRequired + (detail ? `: ${detail}` : '') };
  },
  invalid(path: string, value: unknown, detail = ''): FieldError {
    return { type: 'FieldValueInvalid', field: path, body: `Invalid value: ${formatValue(value)}` + (detail ? `: ${detail}` : '') };
  },
  notSupported(path: string, value: unknown, supported: string[]): FieldError {
    const detail = supported.length ? `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}` : '';
    return { type: 'FieldValueNotSupported', field: path, body: `Unsupported value: ${formatValue(value)}` + (detail ? `: ${detail}` : '') };
  },
  duplicate(path: string, value: unknown): FieldError {
    return { type: 'FieldValueDuplicate', field: path, body: `Duplicate value: ${formatValue(value)}` };
  },
  notFound(path: string, value: unknown): FieldError {
    return { type: 'FieldValueNotFound', field: path, body: `Not found: ${formatValue(value)}` };
  },
  forbidden(path: string, detail = ''): FieldError {
    return { type: 'FieldValueForbidden', field: path, body: 'Forbidden' + (detail ? `: ${detail}` : '') };
  },
  tooLong(path: string, max: number): FieldError {
    return { type: 'FieldValueTooLong', field: path, body: `Too long: may not be more than ${max} bytes` };
  },
};

/** `field: body`, as field.Error.Error() prints it. */
export function fieldErrorText(e: FieldError): string {
  return `${e.field}: ${e.body}`;
}

/** utilerrors.NewAggregate(...).Error(): one error bare, several as `[a, b]`. */
function aggregate(errs: FieldError[]): string {
  const msgs = [...new Set(errs.map(fieldErrorText))];
  return msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`;
}

export function invalid(gk: GroupKind, name: string, errs: FieldError[]): StatusError {
  const details: StatusDetails = {};
  if (name) details.name = name;
  if (gk.group) details.group = gk.group;
  details.kind = gk.kind;
  details.causes = errs.map((e) => ({ reason: e.type, message: e.body, field: e.field }));
  const msg = errs.length ? `${qualifiedKind(gk)} "${name}" is invalid: ${aggregate(errs)}` : `${qualifiedKind(gk)} "${name}" is invalid`;
  return new StatusError(422, 'Invalid', msg, details);
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, 'BadRequest', message);
}

/** NewForbidden: `pods "x" is forbidden: <why>` (`pods is forbidden: …` without a name). */
export function forbidden(gr: GroupResource, name: string, why: string, causes?: StatusCause[]): StatusError {
  const what = qualifiedResource(gr);
  const msg = name ? `${what} "${name}" is forbidden: ${why}` : `${what} is forbidden: ${why}`;
  const details = detailsFor(gr, name);
  if (causes?.length) details.causes = causes;
  return new StatusError(403, 'Forbidden', msg, details);
}

/** AS pkg/admission/plugin/namespace/lifecycle/admission.go: create in a Terminating namespace. */
export function namespaceTerminating(gr: GroupResource, name: string, namespace: string): StatusError {
  return forbidden(gr, name, `unable to create new content in namespace ${namespace} because it is being terminated`, [
    { reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' },
  ]);
}

export function gone(message: string): StatusError {
  return new StatusError(410, 'Gone', message);
}

/** NewResourceExpired (410 Expired), e.g. `too old resource version: 5 (10)`. */
export function expired(message: string): StatusError {
  return new StatusError(410, 'Expired', message);
}

export function methodNotAllowed(gr: GroupResource, action: string): StatusError {
  return new StatusError(405, 'MethodNotAllowed', `${action} is not supported on resources of kind ${JSON.stringify(qualifiedResource(gr))}`, {
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.resource,
  });
}

/** AS pkg/endpoints/handlers/negotiation/errors.go NewUnsupportedMediaTypeError. */
export function unsupportedMediaType(accepted: string[]): StatusError {
  return new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
}

export function internalError(message: string): StatusError {
  return new StatusError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}

/** NewTooManyRequests (429) with Retry-After. */
export function tooManyRequests(message: string, retryAfterSeconds: number): StatusError {
  return new StatusError(429, 'TooManyRequests', message, { retryAfterSeconds });
}

export function notAcceptable(message: string): StatusError {
  return new StatusError(406, 'NotAcceptable', message);
}

export function serviceUnavailable(message: string): StatusError {
  return new StatusError(503, 'ServiceUnavailable', message);
}

// ---------------------------------------------------------------------------------------------------------------
// Reading a failure back (AM pkg/api/errors IsNotFound, IsConflict): a StatusError, or a client's error carrying
// the Status code.

export function httpCode(err: unknown): number | undefined {
  if (isStatusError(err)) return err.code;
  const e = err as { code?: unknown; status?: { code?: unknown } } | undefined;
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.status?.code === 'number') return e.status.code;
  return undefined;
}

export const isNotFound = (err: unknown): boolean => httpCode(err) === 404;
export const isConflict = (err: unknown): boolean => httpCode(err) === 409;
