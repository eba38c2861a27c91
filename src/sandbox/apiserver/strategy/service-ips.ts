/**
 * Cluster IPs (10.96.0.0/12) and node ports (30000-32767) of Services, as K pkg/registry/core/service/storage
 * allocates them: on create, kept on update, released when the Service goes.
 */
import type { KubeObject, ResourceType } from '../../types.js';
import { invalid } from '../../machinery/errors.js';
import { isPlainObject } from '../patch.js';

export class ServiceAddresses {
  private readonly allocatedIPs = new Set<string>(['10.96.0.0']);
  private readonly allocatedNodePorts = new Set<number>();

  constructor(private readonly random: () => number) {}

  allocate(obj: KubeObject, old: KubeObject | undefined, dryRun: boolean): void {
    const spec = obj.spec;
    if (!isPlainObject(spec)) return;
    if (spec.type === 'ExternalName') {
      delete spec.clusterIP;
      delete spec.clusterIPs;
      return;
    }
    if (old?.spec?.clusterIP && !spec.clusterIP) {
      // PatchAllocatedValues: an update that omits the allocated values keeps them.
      spec.clusterIP = old.spec.clusterIP;
      spec.clusterIPs = old.spec.clusterIPs;
    }
    if (!old) {
      if (spec.clusterIP && spec.clusterIP !== 'None') {
        if (!this.inServiceRange(spec.clusterIP)) {
          throw invalid({ group: '', kind: 'Service' }, obj.metadata.name!, [
            { type: 'FieldValueInvalid', field: 'spec.clusterIPs', body: `Invalid value: []string{${JSON.stringify(spec.clusterIP)}}: failed to allocate IP ${spec.clusterIP}: the provided IP (${spec.clusterIP}) is not in the valid range. The range of valid IPs is 10.96.0.0/12` },
          ]);
        }
        if (this.allocatedIPs.has(spec.clusterIP)) {
          throw invalid({ group: '', kind: 'Service' }, obj.metadata.name!, [
            { type: 'FieldValueInvalid', field: 'spec.clusterIPs', body: `Invalid value: []string{${JSON.stringify(spec.clusterIP)}}: failed to allocate IP ${spec.clusterIP}: provided IP is already allocated` },
          ]);
        }
        if (!dryRun) this.allocatedIPs.add(spec.clusterIP);
      } else if (!spec.clusterIP) {
        spec.clusterIP = dryRun ? '10.96.0.0' : this.allocateIP();
      }
      spec.clusterIPs = [spec.clusterIP];
    }
    spec.clusterIPs ??= [spec.clusterIP];
    if (spec.clusterIP !== 'None') {
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
    } else {
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
    }
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
      for (const p of spec.ports ?? []) {
        if (!isPlainObject(p) || p.nodePort) continue;
        const prev = (old?.spec?.ports ?? []).find((q: any) => q.port === p.port && (q.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
        p.nodePort = prev?.nodePort ?? (dryRun ? 30000 : this.allocateNodePort());
      }
    }
  }

  /** Frees a removed Service's addresses. */
  release(r: ResourceType, obj: KubeObject): void {
    if (r.resource === 'services' && !r.group) {
      for (const ip of obj.spec?.clusterIPs ?? [obj.spec?.clusterIP]) if (ip) this.allocatedIPs.delete(ip);
      for (const p of obj.spec?.ports ?? []) if (p?.nodePort) this.allocatedNodePorts.delete(p.nodePort);
    }
  }

  private allocateIP(): string {
    // 10.96.0.0/12: 10.96.0.0 – 10.111.255.255; .0.1 is the `kubernetes` Service.
    for (;;) {
      const n = Math.floor(this.random() * (1 << 20));
      const ip = `10.${96 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
      if (!this.allocatedIPs.has(ip) && (n & 255) !== 255) {
        this.allocatedIPs.add(ip);
        return ip;
      }
    }
  }

  private allocateNodePort(): number {
    for (;;) {
      const p = 30000 + Math.floor(this.random() * 2768);
      if (!this.allocatedNodePorts.has(p)) {
        this.allocatedNodePorts.add(p);
        return p;
      }
    }
  }

  private inServiceRange(ip: string): boolean {
    const m = ip.match(/^10\.(\d+)\.(\d+)\.(\d+)$/);
    return !!m && +m[1] >= 96 && +m[1] <= 111 && +m[2] <= 255 && +m[3] <= 255;
  }
}
