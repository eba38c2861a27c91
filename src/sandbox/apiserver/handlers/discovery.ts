/** Discovery (`/version`, `/api`, `/apis`, the group and resource lists) and the schema-less `/openapi/v3` (openapi.ts). */
import type { ResourceType } from '../../types.js';
import { openapiDocument, openapiIndex } from '../openapi.js';
import { RESOURCE_TYPES, apiVersionOf, subresourceKind, subresourceVerbs } from '../resources.js';

const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4-sandbox',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.8',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export class Discovery {
  private readonly groups = new Map<string, ResourceType[]>();
  /** `host:port` the API answers on (APIVersions' serverAddressByClientCIDRs), once the server listens. */
  serverAddress = '';

  constructor() {
    for (const r of RESOURCE_TYPES) {
      const gv = apiVersionOf(r);
      this.groups.set(gv, [...(this.groups.get(gv) ?? []), r]);
    }
  }

  /** The discovery or OpenAPI document at `path`; undefined for other paths. */
  get(path: string): unknown | undefined {
    if (path === '/version') return SERVER_VERSION;
    if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: this.serverAddress }] };
    if (path === '/apis') {
      const gs: unknown[] = [];
      for (const gv of this.groups.keys()) {
        if (!gv.includes('/')) continue;
        const [name, version] = gv.split('/');
        const v = { groupVersion: gv, version };
        gs.push({ name, versions: [v], preferredVersion: v });
      }
      return { kind: 'APIGroupList', apiVersion: 'v1', groups: gs };
    }
    if (path === '/api/v1') return this.resourceList('v1');
    const m = path.match(/^\/apis\/([^/]+)\/([^/]+)$/);
    if (m && this.groups.has(`${m[1]}/${m[2]}`)) return this.resourceList(`${m[1]}/${m[2]}`);
    if (path === '/openapi/v3') return openapiIndex([...this.groups.keys()]);
    const o = path.match(/^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+\/[^/]+))$/);
    if (o) {
      const gv = o[1] ?? o[2];
      if (this.groups.has(gv)) return openapiDocument(this.groups.get(gv)!);
    }
    const g = path.match(/^\/apis\/([^/]+)$/);
    if (g) {
      const gv = [...this.groups.keys()].find((x) => x.startsWith(`${g[1]}/`));
      if (gv) {
        const v = { groupVersion: gv, version: gv.split('/')[1] };
        return { kind: 'APIGroup', apiVersion: 'v1', name: g[1], versions: [v], preferredVersion: v };
      }
    }
    return undefined;
  }

  private resourceList(gv: string): unknown {
    const resources: unknown[] = [];
    for (const r of this.groups.get(gv) ?? []) {
      const row: Record<string, unknown> = { name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs };
      if (r.shortNames?.length) row.shortNames = r.shortNames;
      if (r.categories?.length) row.categories = r.categories;
      resources.push(row);
    }
    // Subresource rows after every main resource (client-node takes the first row whose kind matches).
    for (const r of this.groups.get(gv) ?? []) {
      for (const sub of r.subresources) {
        const k = subresourceKind(r, sub);
        const row: Record<string, unknown> = { name: `${r.resource}/${sub}`, singularName: '', namespaced: r.namespaced };
        if (k.group !== undefined) {
          row.group = k.group;
          row.version = k.version;
        }
        row.kind = k.kind;
        row.verbs = subresourceVerbs(sub);
        resources.push(row);
      }
    }
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources };
  }
}
