import { describe, expect, it } from 'vitest';
import { isStatusError } from '../../../src/sandbox/machinery/errors.js';
import { ProtobufError, decodeKubernetesProtobuf, decodeMessage, decodeProtobufObject } from '../../../src/sandbox/apiserver/protobuf/decode.js';
import { messageSpec } from '../../../src/sandbox/apiserver/protobuf/schema.js';
import { Reader } from '../../../src/sandbox/apiserver/protobuf/wire.js';
import { cat, double, entry, fixed32, fixed64, k8s, ld, msg, packed, varint, vi, zz } from './encoder.js';

// Field numbers below are spelled out from kubernetes/api and kubernetes/apimachinery generated.proto.

function decode(apiVersion: string, kind: string, raw: Uint8Array): any {
  return decodeKubernetesProtobuf(k8s(apiVersion, kind, raw)).object;
}

function statusOf(fn: () => unknown): { code: number; message: string } {
  try {
    fn();
  } catch (e) {
    if (isStatusError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('no error thrown');
}

describe('wire reader', () => {
  it('reads varints beyond 2^31 and 2^53, and 64-bit ones', () => {
    expect(new Reader(varint(3_000_000_000)).uint32()).toBe(3_000_000_000);
    expect(new Reader(varint(3_000_000_000)).int64()).toBe(3_000_000_000n);
    expect(new Reader(varint(2n ** 63n + 5n)).uint64()).toBe(2n ** 63n + 5n);
    expect(new Reader(varint(2n ** 64n - 1n)).int64()).toBe(-1n);
    expect(varint(300)).toEqual(Uint8Array.of(0xac, 0x02));
    expect(new Reader(Uint8Array.of(0xac, 0x02)).uint32()).toBe(300);
  });

  it('reads negative int32 and int64 (10-byte two\'s complement varints) and zigzag', () => {
    const neg = varint(-5);
    expect(neg.length).toBe(10);
    expect(new Reader(neg).int32()).toBe(-5);
    expect(new Reader(varint(-(2n ** 40n))).int64()).toBe(-(2n ** 40n));
    expect(new Reader(varint(-2147483648)).int32()).toBe(-2147483648);
    expect(new Reader(zz(1, -3).subarray(1)).sint32()).toBe(-3);
    expect(new Reader(zz(1, 2147483647).subarray(1)).sint32()).toBe(2147483647);
    expect(new Reader(zz(1, -(2n ** 62n)).subarray(1)).sint64()).toBe(-(2n ** 62n));
  });

  it('reads fixed-width values', () => {
    expect(new Reader(fixed32(1, 0xdeadbeef).subarray(1)).fixed32()).toBe(0xdeadbeef);
    expect(new Reader(fixed32(1, 0xffffffff).subarray(1)).sfixed32()).toBe(-1);
    expect(new Reader(fixed64(1, -7n).subarray(1)).sfixed64()).toBe(-7n);
    expect(new Reader(double(1, 2.5).subarray(1)).double()).toBe(2.5);
  });

  it('rejects truncated and malformed input', () => {
    expect(() => new Reader(Uint8Array.of(0x80, 0x80)).varint()).toThrow(/unexpected end of data in a varint/);
    expect(() => new Reader(Uint8Array.of(...new Array<number>(10).fill(0xff), 0x01)).varint()).toThrow(/overflows 64 bits|longer than 10/);
    expect(() => new Reader(Uint8Array.of(0x05, 0x61)).bytes()).toThrow(/5 bytes needed, 1 left/);
    expect(() => new Reader(Uint8Array.of(0x00)).tag()).toThrow(/field number 0/);
    expect(() => new Reader(Uint8Array.of()).skip(3)).toThrow(/wire type 3 \(start-group\)/);
  });
});

describe('decoding objects', () => {
  it('Deployment: nested messages, maps, pointer zeros kept, omitempty zeros dropped, key order of the Go struct', () => {
    const container = cat(
      ld(1, 'web'),
      ld(2, 'busybox:1.36'),
      ld(3, 'sh'),
      ld(3, '-c'),
      ld(3, 'sleep 300'),
      msg(6, ld(1, 'http'), vi(3, 8080), ld(4, 'TCP')),
      msg(6, vi(3, 0)), // containerPort has no omitempty: a zero stays
      msg(8, entry(1, 'cpu', ld(1, '500m')), entry(2, 'memory', ld(1, '64Mi'))),
      ld(13, ''), // terminationMessagePath "" (omitempty): dropped
      vi(16, false), // stdin false: dropped
    );
    const spec = cat(
      vi(1, 0), // replicas *int32: 0 kept
      msg(2, entry(1, 'app', 'web'), msg(2, ld(1, 'tier'), ld(2, 'In'), ld(3, 'a'), ld(3, 'b'))),
      msg(3, msg(1, entry(11, 'app', 'web'), msg(8)), msg(2, msg(2, container), ld(3, 'Always'), vi(4, 30))),
      msg(4, ld(1, 'RollingUpdate'), msg(2, msg(1, vi(1, 1), ld(3, '25%')), msg(2, vi(2, 2)))),
      vi(5, 0), // minReadySeconds int32 omitempty: dropped
      vi(7, false), // paused: dropped
    );
    const obj = decode('apps/v1', 'Deployment', cat(msg(1, ld(1, 'web'), ld(3, 'ns1'), entry(11, 'app', 'web'), entry(11, 'tier', 'a'), vi(7, 3_000_000_000)), msg(2, spec), msg(3)));
    expect(obj).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'ns1', generation: 3_000_000_000, labels: { app: 'web', tier: 'a' } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] },
        template: {
          metadata: { labels: { app: 'web' } }, // zero creationTimestamp is omitzero
          spec: {
            containers: [
              {
                name: 'web',
                image: 'busybox:1.36',
                command: ['sh', '-c', 'sleep 300'],
                ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { containerPort: 0 }],
                resources: { limits: { cpu: '500m' }, requests: { memory: '64Mi' } },
              },
            ],
            restartPolicy: 'Always',
            terminationGracePeriodSeconds: 30,
          },
        },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 2 } },
      },
      status: {},
    });
    expect(Object.keys(obj.spec)).toEqual(['replicas', 'selector', 'template', 'strategy']);
  });

  it('inlined embedded structs: Volume.volumeSource, Probe.handler, LocalObjectReference of key selectors', () => {
    const volumes = [
      msg(1, ld(1, 'cfg'), msg(2, msg(19, msg(1, ld(1, 'my-cm')), msg(2, ld(1, 'a'), ld(2, 'a.txt'), vi(3, 0o400)), vi(3, 0o644), vi(4, false)))),
      msg(1, ld(1, 'sec'), msg(2, msg(6, ld(1, 'my-secret'), vi(3, 0o600)))),
      msg(1, ld(1, 'tmp'), msg(2, msg(2, ld(1, 'Memory'), msg(2, ld(1, '1Gi'))))),
      msg(1, ld(1, 'host'), msg(2, msg(1, ld(1, '/var/log'), ld(2, 'Directory')))),
      msg(1, ld(1, 'data'), msg(2, msg(10, ld(1, 'claim'), vi(2, true)))),
      msg(1, ld(1, 'proj'), msg(2, msg(26, msg(1, msg(4, ld(1, 'aud'), vi(2, 3600), ld(3, 'token'))), msg(1, msg(3, msg(1, ld(1, 'cm2')))), vi(2, 0o444)))),
    ];
    const container = cat(
      ld(1, 'app'),
      msg(7, ld(1, 'A'), ld(2, '1')),
      msg(7, ld(1, 'B'), msg(3, msg(3, msg(1, ld(1, 'cm')), ld(2, 'k')))),
      msg(7, ld(1, 'C'), msg(3, msg(4, msg(1, ld(1, 'sec')), ld(2, 'k'), vi(3, true)))),
      msg(7, ld(1, 'D'), msg(3, msg(1, ld(1, 'v1'), ld(2, 'metadata.name')))),
      msg(9, ld(1, 'cfg'), vi(2, true), ld(3, '/etc/cfg')),
      msg(10, msg(1, msg(2, ld(1, '/healthz'), msg(2, vi(1, 1), ld(3, 'http')), ld(4, 'HTTP'))), vi(2, 5), vi(4, 10)),
      msg(11, msg(1, msg(1, ld(1, 'cat'), ld(1, '/tmp/ready'))), vi(6, 3)),
      msg(22, msg(1, msg(3, msg(1, vi(1, 0), vi(2, 8080))))),
      msg(15, msg(1, ld(2, 'ALL')), vi(4, 1000), vi(5, true), vi(6, true), vi(7, false)),
    );
    const pod = decode('v1', 'Pod', cat(msg(1, ld(1, 'p')), msg(2, ...volumes, msg(2, container), msg(14, vi(2, 0), packed(4, [1, 3_000_000_000]), vi(4, 7), vi(5, 2000)))));
    expect(pod.spec.volumes).toEqual([
      { name: 'cfg', configMap: { name: 'my-cm', items: [{ key: 'a', path: 'a.txt', mode: 0o400 }], defaultMode: 0o644, optional: false } },
      { name: 'sec', secret: { secretName: 'my-secret', defaultMode: 0o600 } },
      { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } },
      { name: 'host', hostPath: { path: '/var/log', type: 'Directory' } },
      { name: 'data', persistentVolumeClaim: { claimName: 'claim', readOnly: true } },
      {
        name: 'proj',
        projected: { sources: [{ serviceAccountToken: { audience: 'aud', expirationSeconds: 3600, path: 'token' } }, { configMap: { name: 'cm2' } }], defaultMode: 0o444 },
      },
    ]);
    const c = pod.spec.containers[0];
    expect(c.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k' } } },
      { name: 'C', valueFrom: { secretKeyRef: { name: 'sec', key: 'k', optional: true } } },
      { name: 'D', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    ]);
    expect(c.volumeMounts).toEqual([{ name: 'cfg', readOnly: true, mountPath: '/etc/cfg' }]);
    expect(c.livenessProbe).toEqual({ httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' }, initialDelaySeconds: 5, periodSeconds: 10 });
    expect(c.readinessProbe).toEqual({ exec: { command: ['cat', '/tmp/ready'] }, failureThreshold: 3 });
    expect(c.startupProbe).toEqual({ tcpSocket: { port: 8080 } });
    expect(c.securityContext).toEqual({ capabilities: { drop: ['ALL'] }, runAsUser: 1000, runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    // packed and unpacked repeated int64 of one field both append
    expect(pod.spec.securityContext).toEqual({ runAsUser: 0, supplementalGroups: [1, 3_000_000_000, 7], fsGroup: 2000 });
  });

  it('affinity, tolerations and node selectors', () => {
    const affinity = msg(18, msg(1, msg(1, msg(1, msg(1, ld(1, 'zone'), ld(2, 'In'), ld(3, 'a'))))));
    const pod = decode('v1', 'Pod', cat(msg(2, affinity, msg(22, ld(1, 'k'), ld(2, 'Exists'), ld(4, 'NoSchedule'), vi(5, 0)), entry(7, 'disk', 'ssd'))));
    expect(pod.spec).toEqual({
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } } },
      tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 0 }],
      nodeSelector: { disk: 'ssd' },
    });
  });

  it('bytes map values are base64; absent map values are the zero value; __proto__ keys stay data', () => {
    const bin = Uint8Array.of(0, 0xff, 0x10, 0x80);
    const s = decode('v1', 'Secret', cat(msg(1, ld(1, 's')), entry(2, 'token', Buffer.from('s3cr3t')), entry(2, 'bin', bin), msg(2, ld(1, 'empty')), ld(3, 'Opaque'), vi(5, false)));
    expect(s).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, immutable: false, data: { token: 'czNjcjN0', bin: 'AP8QgA==', empty: '' }, type: 'Opaque' });
    const cm = decode('v1', 'ConfigMap', cat(entry(2, '__proto__', 'x'), entry(3, 'b', bin)));
    expect(Object.getPrototypeOf(cm.data)).toBe(Object.prototype);
    expect(Object.keys(cm.data)).toEqual(['__proto__']);
    expect(cm.data['__proto__']).toBe('x');
    expect(cm.binaryData).toEqual({ b: 'AP8QgA==' });
  });

  it('IntOrString, Quantity, Time and MicroTime', () => {
    const svc = decode('v1', 'Service', msg(2, msg(1, ld(1, 'a'), vi(3, 80), msg(4, vi(1, 0), vi(2, 8080))), msg(1, vi(3, 443), msg(4, vi(1, 1), ld(3, 'https'))), msg(1, vi(3, 9), msg(4))));
    expect(svc.spec.ports).toEqual([
      { name: 'a', port: 80, targetPort: 8080 },
      { port: 443, targetPort: 'https' },
      { port: 9, targetPort: 0 },
    ]);
    const t = 1767323045; // 2026-01-02T03:04:05Z
    const lease = decode(
      'coordination.k8s.io/v1',
      'Lease',
      cat(msg(1, ld(1, 'l'), msg(8, vi(1, t), vi(2, 999_000_000)), msg(9)), msg(2, ld(1, ''), vi(2, 0), msg(3, vi(1, t), vi(2, 123_456_789)), msg(4, vi(1, t)), vi(5, 0))),
    );
    expect(lease.metadata).toEqual({ name: 'l', creationTimestamp: '2026-01-02T03:04:05Z', deletionTimestamp: null });
    expect(lease.spec).toEqual({
      holderIdentity: '',
      leaseDurationSeconds: 0,
      acquireTime: '2026-01-02T03:04:05.123456Z',
      renewTime: '2026-01-02T03:04:05.000000Z',
      leaseTransitions: 0,
    });
    const ev = decode('v1', 'Event', cat(msg(1, ld(1, 'e')), msg(2, ld(1, 'Pod')), msg(6, vi(1, -1)), msg(7, vi(1, -62135596800)), msg(10), ld(14, ''), ld(15, '')));
    expect(ev).toEqual({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'e' },
      involvedObject: { kind: 'Pod' },
      firstTimestamp: '1969-12-31T23:59:59Z',
      lastTimestamp: null,
      eventTime: null,
      reportingComponent: '',
      reportingInstance: '',
    });
    const pod = decode('v1', 'Pod', msg(2, msg(2, ld(1, 'c'), msg(8, entry(1, 'cpu', new Uint8Array(0)), entry(1, 'memory', ld(1, '1.5Gi'))))));
    expect(pod.spec.containers[0].resources).toEqual({ limits: { cpu: '0', memory: '1.5Gi' } });
    expect(() => decode('v1', 'Pod', msg(2, msg(2, msg(8, entry(1, 'cpu', ld(1, 'lots'))))))).toThrow(/quantities must match/);
  });

  it('managedFields: FieldsV1 is raw JSON', () => {
    const cm = decode('v1', 'ConfigMap', msg(1, msg(17, ld(1, 'kubectl'), ld(2, 'Update'), ld(3, 'v1'), ld(6, 'FieldsV1'), msg(7, ld(1, '{"f:data":{".":{}}}')))));
    expect(cm.metadata.managedFields).toEqual([{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { '.': {} } } }]);
  });

  it('a singular message field repeated on the wire merges (proto semantics)', () => {
    const ns = decode('v1', 'Namespace', cat(msg(1, ld(1, 'a'), entry(11, 'x', '1')), msg(1, entry(11, 'y', '2'), ld(3, 'ignored-ns'))));
    expect(ns.metadata).toEqual({ name: 'a', namespace: 'ignored-ns', labels: { x: '1', y: '2' } });
  });

  it('option kinds: DeleteOptions in any group version, autoscaling/v1 Scale', () => {
    const d = decode('apps/v1', 'DeleteOptions', cat(vi(1, 0), msg(2, ld(1, 'uid-1')), ld(4, 'Foreground'), ld(5, 'All')));
    expect(d).toEqual({ apiVersion: 'apps/v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: 'uid-1' }, propagationPolicy: 'Foreground', dryRun: ['All'] });
    expect(decode('autoscaling/v1', 'Scale', cat(msg(1, ld(1, 'web')), msg(2, vi(1, 3))))).toEqual({ apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web' }, spec: { replicas: 3 } });
    expect(decode('v1', 'DeleteOptions', vi(3, true))).toMatchObject({ orphanDependents: true });
  });
});

describe('nothing is dropped silently', () => {
  it('an unknown field number is an error naming the message, the number and the path', () => {
    expect(() => decode('apps/v1', 'Deployment', msg(2, vi(1, 1), vi(99, 5)))).toThrow(
      'unknown field number 99 (wire type 0 (varint)) in message apps.v1.DeploymentSpec at spec',
    );
    expect(() => decode('v1', 'Pod', msg(2, msg(2, ld(1, 'c'), msg(6, vi(3, 80), ld(42, 'x')))))).toThrow(
      /unknown field number 42 .* in message core\.v1\.ContainerPort at spec\.containers\[0\]\.ports\[0\]/,
    );
    expect(() => decode('v1', 'ConfigMap', msg(2, ld(1, 'k'), ld(2, 'v'), ld(3, 'extra')))).toThrow(/unknown field number 3 .* entry of map field 2 \(data\)/);
    expect(() => decode('v1', 'Pod', msg(1, msg(8, vi(1, 5), vi(3, 1))))).toThrow(/unknown field number 3 .* in message meta\.v1\.Time at metadata\.creationTimestamp/);
  });

  it('a wire type that does not fit the field is an error', () => {
    expect(() => decode('apps/v1', 'Deployment', msg(2, ld(1, 'three')))).toThrow(/field 1 \(replicas\) of message apps\.v1\.DeploymentSpec is wire type 0 \(varint\), got wire type 2/);
    expect(() => decode('v1', 'Namespace', vi(1, 1))).toThrow(/field 1 \(metadata\) of message core\.v1\.Namespace is wire type 2/);
  });

  it('a field of a package the sandbox does not decode is an error', () => {
    expect(() => decode('batch/v1', 'Job', msg(2, msg(17, msg(1, ld(1, 'x')))))).toThrow(
      /field 1 \(schedulingPolicy\) of message batch\.v1\.JobSchedulingConfiguration at spec\.scheduling has type k8s\.io\.api\.scheduling\.v1alpha3\.WorkloadPodGroupSchedulingPolicy/,
    );
  });

  it('an int64 beyond 2^53 is an error, not a rounded number', () => {
    expect(() => decode('v1', 'Pod', msg(2, vi(4, 2n ** 53n + 1n)))).toThrow(/9007199254740993 at spec\.terminationGracePeriodSeconds is beyond/);
    expect(decode('v1', 'Pod', msg(2, vi(4, 2n ** 53n - 1n))).spec.terminationGracePeriodSeconds).toBe(Number.MAX_SAFE_INTEGER);
    expect(decode('v1', 'Pod', msg(2, vi(4, -1))).spec.terminationGracePeriodSeconds).toBe(-1);
  });

  it('truncated messages are errors', () => {
    const raw = msg(1, ld(1, 'name'));
    expect(() => decode('v1', 'Namespace', raw.subarray(0, raw.length - 2))).toThrow(/unexpected end of data/);
  });
});

describe('the envelope and the server entry point', () => {
  it('checks the magic and the kind', () => {
    expect(statusOf(() => decodeProtobufObject(Buffer.from('{"kind":"Namespace"}')))).toEqual({
      code: 400,
      message: 'provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]',
    });
    expect(statusOf(() => decodeProtobufObject(Buffer.from('k8s\0')))).toEqual({ code: 400, message: 'empty body' });
    expect(statusOf(() => decodeProtobufObject(k8s('v1', 'PersistentVolume', msg(1, ld(1, 'x')))))).toEqual({
      code: 400,
      message: 'no kind "PersistentVolume" is registered for version "v1" in scheme "pkg/api/legacyscheme/scheme.go:30"',
    });
    expect(statusOf(() => decodeProtobufObject(k8s('apps/v1', 'Namespace', new Uint8Array(0)))).message).toMatch(/no kind "Namespace" is registered for version "apps\/v1"/);
    expect(statusOf(() => decodeProtobufObject(k8s('v1', 'Namespace', new Uint8Array(0), ld(3, 'gzip')))).message).toMatch(/content encoding "gzip"/);
    expect(statusOf(() => decodeProtobufObject(k8s('v1', 'Namespace', new Uint8Array(0), ld(9, 'x')))).message).toMatch(/unknown field number 9 .* runtime\.Unknown/);
  });

  it('decode errors of an object are 400 "<Kind> in version ... cannot be handled as a <Kind>"', () => {
    expect(statusOf(() => decodeProtobufObject(k8s('apps/v1', 'Deployment', msg(2, vi(50, 1)))))).toEqual({
      code: 400,
      message: 'Deployment in version "v1" cannot be handled as a Deployment: protobuf: unknown field number 50 (wire type 0 (varint)) in message apps.v1.DeploymentSpec at spec',
    });
  });

  it('returns the object with apiVersion and kind first', () => {
    const o = decodeProtobufObject(k8s('v1', 'Namespace', cat(msg(1, ld(1, 'x')), msg(2), msg(3))));
    expect(Object.keys(o)).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
    expect(o).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' }, spec: {}, status: {} });
  });

  it('decodeMessage is usable on its own', () => {
    expect(decodeMessage(messageSpec('meta.v1.OwnerReference')!, cat(ld(5, 'apps/v1'), ld(1, 'ReplicaSet'), ld(3, 'rs'), ld(4, 'u'), vi(6, true)))).toEqual({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      name: 'rs',
      uid: 'u',
      controller: true,
    });
    expect(() => decodeMessage(messageSpec('meta.v1.OwnerReference')!, vi(2, 1))).toThrow(ProtobufError);
  });
});
