/**
 * OpenAPI v3 discovery documents and server-side field validation.
 *
 * The sandbox has no OpenAPI schemas of its own. What it serves at `/openapi/v3` is a truthful, schema-less
 * description of its endpoints: each group-version document lists the resource paths, and the PATCH operations carry
 * `x-kubernetes-group-version-kind` and the `fieldValidation` query parameter. That is what kubectl's
 * QueryParamVerifierV3 (KC pkg/cmd/util/factory_client_access.go Validator, client-go openapi3 root) looks for before
 * delegating validation to the server with `fieldValidation=Strict` instead of validating client-side — so
 * `kubectl apply/create -f` work without `--validate=false`. `components.schemas` stays empty and the PATCH request
 * bodies do not list strategic merge, so `kubectl apply` (client-side) computes its patches from its compiled-in types
 * as it does without OpenAPI, and `kubectl explain` has nothing to show. `/openapi/v2` answers 404.
 *
 * Field validation (AS pkg/endpoints/handlers/create.go, update.go, patch.go with fieldValidation Strict|Warn|Ignore):
 * unknown fields are found by walking the body along the field tables of the protobuf schema (protobuf/schema.ts, the
 * JSON names of every field of the served kinds, inlined structs such as Volume.volumeSource flattened, see
 * protobuf/fields.ts). Strict -> 400 `strict decoding error: unknown field "spec.foo"`;
 * Warn (the default) -> `Warning: 299 - "unknown field \"spec.foo\""` headers; Ignore -> nothing.
 */
import type { ResourceType } from '../types.js';
import { unknownFieldPaths } from './protobuf/fields.js';
import { apiVersionOf } from './resources.js';

function gvPath(gv: string): string {
  return gv.includes('/') ? `apis/${gv}` : `api/${gv}`;
}

/** `/openapi/v3`: the list of group-version documents. */
export function openapiIndex(groupVersions: string[]): unknown {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of groupVersions) paths[gvPath(gv)] = { serverRelativeURL: `/openapi/v3/${gvPath(gv)}?hash=sandbox-${gv.replace(/[^a-z0-9]/gi, '')}` };
  return { paths };
}

const PATCH_CONTENT = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];

/** `/openapi/v3/{api/v1|apis/g/v}`: paths of a group-version, schema-less. */
export function openapiDocument(resources: ResourceType[]): unknown {
  const paths: Record<string, unknown> = {};
  const param = (name: string) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } });
  const response = { '200': { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } } };
  for (const r of resources) {
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    const base = `/${gvPath(apiVersionOf(r))}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.resource}`;
    const writeParams = [param('dryRun'), param('fieldManager'), param('fieldValidation')];
    paths[base] = {
      get: { operationId: `list${r.kind}`, 'x-kubernetes-action': 'list', 'x-kubernetes-group-version-kind': gvk, responses: response },
      post: { operationId: `create${r.kind}`, 'x-kubernetes-action': 'post', 'x-kubernetes-group-version-kind': gvk, parameters: writeParams, requestBody: { content: { 'application/json': {} } }, responses: response },
    };
    paths[`${base}/{name}`] = {
      get: { operationId: `read${r.kind}`, 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': gvk, responses: response },
      put: { operationId: `replace${r.kind}`, 'x-kubernetes-action': 'put', 'x-kubernetes-group-version-kind': gvk, parameters: writeParams, requestBody: { content: { 'application/json': {} } }, responses: response },
      patch: {
        operationId: `patch${r.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': gvk,
        parameters: [...writeParams, param('force')],
        requestBody: { content: Object.fromEntries(PATCH_CONTENT.map((c) => [c, { schema: { type: 'object' } }])) },
        responses: response,
      },
      delete: { operationId: `delete${r.kind}`, 'x-kubernetes-action': 'delete', 'x-kubernetes-group-version-kind': gvk, responses: response },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes (bodywork-deploy sandbox, schema-less)', version: 'v1.32.4-sandbox' }, paths, components: { schemas: {} } };
}

/** JSON paths of fields the kind does not have, e.g. `spec.replica`, `spec.template.spec.containers[0].imagee`. */
export function unknownFields(obj: unknown, r: ResourceType): string[] {
  return unknownFieldPaths(obj, apiVersionOf(r), r.kind);
}
