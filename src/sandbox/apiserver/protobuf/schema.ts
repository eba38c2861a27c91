/**
 * The protobuf schema of the kinds the sandbox serves: for every message reachable from them, its fields by number.
 *
 * Data taken from the Go types of kubernetes/api (`{core,apps,batch,networking,rbac,coordination,autoscaling}/v1`,
 * commit 10b39a39) and kubernetes/apimachinery (`pkg/apis/meta/v1`, commit eed236ce): the `protobuf:"…"` struct tag
 * gives the field number, `generated.proto` the proto type, and the `json:"…"` tag the JSON name and `omitempty` /
 * `omitzero`. A newer table than the advertised v1.32 is a superset: field numbers are never reused.
 *
 * A field is written `'<number> <json name> <type> [flags]'`:
 * - type: a proto scalar (`string`, `bytes`, `bool`, `int32`, `int64`, `uint32`, `uint64`, `double`, `float`, …), a
 *   message of this table (`core.v1.Container`), a type with its own JSON form (`Time`, `MicroTime`, `Quantity`,
 *   `IntOrString`, `FieldsV1`), `!<proto name>` for a message of a package the sandbox does not decode (present on the
 *   wire: an error), `[]T` for a repeated field and `map<T>` for a `map<string, T>`;
 * - flags: `*` the Go field is a pointer (a present zero is kept), `e` `omitempty` (a zero scalar of a non-pointer field is
 *   dropped, as Go's JSON encoding of the decoded struct would), `z` `omitzero` (a zero Time is dropped), `i` an embedded
 *   struct whose fields JSON inlines into its parent (its JSON name is `-`).
 * The rows live in messages/, one file per API group (core/v1 in three: pods, their volumes, the rest).
 */
import { META_V1 } from './messages/meta.js';
import { CORE_V1 } from './messages/core.js';
import { CORE_V1_PODS } from './messages/pods.js';
import { CORE_V1_VOLUMES } from './messages/volumes.js';
import { APPS_V1 } from './messages/apps.js';
import { AUTOSCALING_V1 } from './messages/autoscaling.js';
import { BATCH_V1 } from './messages/batch.js';
import { COORDINATION_V1 } from './messages/coordination.js';
import { NETWORKING_V1 } from './messages/networking.js';
import { RBAC_V1 } from './messages/rbac.js';

/** A table of messages: message name -> its field rows. */
export type MessageTable = Readonly<Record<string, readonly string[]>>;

/** Message name (`<group short>.<version>.<Kind>`) -> its fields. */
export const MESSAGES: MessageTable = {
  ...META_V1,
  ...CORE_V1,
  ...CORE_V1_PODS,
  ...CORE_V1_VOLUMES,
  ...APPS_V1,
  ...AUTOSCALING_V1,
  ...BATCH_V1,
  ...COORDINATION_V1,
  ...NETWORKING_V1,
  ...RBAC_V1,
};

/** proto package (as used in MESSAGES) of each API group served. */
export const GROUP_PACKAGES: Readonly<Record<string, string>> = {
  '': 'core',
  apps: 'apps',
  batch: 'batch',
  'networking.k8s.io': 'networking',
  'rbac.authorization.k8s.io': 'rbac',
  'coordination.k8s.io': 'coordination',
  autoscaling: 'autoscaling',
  'meta.k8s.io': 'meta',
};

/** Kinds registered in every group version (AM pkg/apis/meta/v1/register.go AddToGroupVersion): option bodies. */
export const UNVERSIONED_KINDS: Readonly<Record<string, string>> = {
  DeleteOptions: 'meta.v1.DeleteOptions',
};

/** The kinds a request body may carry: the served kinds and the option/subresource kinds (DeleteOptions, Scale). */
export const TOP_LEVEL_MESSAGES: ReadonlySet<string> = new Set([
  'core.v1.Namespace', 'core.v1.ServiceAccount', 'core.v1.Secret', 'core.v1.ConfigMap', 'core.v1.Service', 'core.v1.Endpoints',
  'core.v1.Pod', 'core.v1.Event', 'core.v1.Node', 'rbac.v1.Role', 'rbac.v1.RoleBinding', 'rbac.v1.ClusterRole',
  'rbac.v1.ClusterRoleBinding', 'batch.v1.Job', 'apps.v1.Deployment', 'apps.v1.ReplicaSet', 'networking.v1.Ingress',
  'coordination.v1.Lease', 'meta.v1.DeleteOptions', 'autoscaling.v1.Scale',
]);

/** What a field row of MESSAGES means. */
export interface FieldSpec {
  num: number;
  /** JSON name; `-` for an inlined embedded struct. */
  json: string;
  /** Scalar, message (of MESSAGES), special (own JSON form) or unsupported (`!…`). */
  kind: 'scalar' | 'message' | 'special' | 'unsupported';
  /** Scalar type, message name, special name, or the unsupported proto message name. */
  type: string;
  repeated: boolean;
  map: boolean;
  pointer: boolean;
  omitEmpty: boolean;
  omitZero: boolean;
  inline: boolean;
}

export interface MessageSpec {
  name: string;
  /** Fields in Go struct (JSON) order. */
  fields: readonly FieldSpec[];
  byNumber: ReadonlyMap<number, FieldSpec>;
}

export const SCALAR_TYPES: ReadonlySet<string> = new Set([
  'string', 'bytes', 'bool', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64',
  'fixed32', 'fixed64', 'sfixed32', 'sfixed64', 'double', 'float',
]);

export const SPECIAL_TYPES: ReadonlySet<string> = new Set(['Time', 'MicroTime', 'Quantity', 'IntOrString', 'FieldsV1']);

/** Parses one row of MESSAGES (exported for the table's consistency test). */
export function parseField(row: string): FieldSpec {
  const [num, json, rawType, flags = '', ...rest] = row.split(' ');
  if (!num || !json || !rawType || rest.length || !/^\d+$/.test(num) || /[^*ezi]/.test(flags)) throw new Error(`malformed schema row '${row}'`);
  let type = rawType;
  const repeated = type.startsWith('[]');
  if (repeated) type = type.slice(2);
  const map = type.startsWith('map<') && type.endsWith('>');
  if (map) type = type.slice(4, -1);
  let kind: FieldSpec['kind'];
  if (type.startsWith('!')) {
    kind = 'unsupported';
    type = type.slice(1);
  } else if (SCALAR_TYPES.has(type)) kind = 'scalar';
  else if (SPECIAL_TYPES.has(type)) kind = 'special';
  else if (MESSAGES[type]) kind = 'message';
  else throw new Error(`schema row '${row}' refers to an unknown type ${type}`);
  return {
    num: Number(num),
    json,
    kind,
    type,
    repeated,
    map,
    pointer: flags.includes('*'),
    omitEmpty: flags.includes('e'),
    omitZero: flags.includes('z'),
    inline: flags.includes('i'),
  };
}

const parsed = new Map<string, MessageSpec>();

/** The parsed fields of a message of MESSAGES (undefined when the table has no such message). */
export function messageSpec(name: string): MessageSpec | undefined {
  let spec = parsed.get(name);
  if (spec) return spec;
  const rows = Object.hasOwn(MESSAGES, name) ? MESSAGES[name] : undefined;
  if (!rows) return undefined;
  const fields = rows.map(parseField);
  spec = { name, fields, byNumber: new Map(fields.map((f) => [f.num, f])) };
  parsed.set(name, spec);
  return spec;
}
