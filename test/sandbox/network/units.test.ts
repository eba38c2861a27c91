/** Pure parts of the pod network: hosts/resolv files, service variables, the container mount script, endpoints. */
import { describe, expect, it } from 'vitest';
import { hostsFileContent, resolvConfContent, serviceEnv, serviceEnvVars } from '../../../src/sandbox/network/hosts.js';
import { containerSetupScript } from '../../../src/sandbox/network/container-setup.js';
import { readyBackends } from '../../../src/sandbox/network/proxy.js';
import { createClusterStore } from '../../../src/sandbox/apiserver/registry.js';
import type { KubeObject } from '../../../src/sandbox/types.js';

const pod = (ns: string, spec: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: ns }, spec: { containers: [], ...spec } });

describe('hosts and resolv.conf', () => {
  it('lists the pod, its host aliases and every Service (short names only in its namespace)', () => {
    const text = hostsFileContent(pod('ml', { hostAliases: [{ ip: '1.2.3.4', hostnames: ['a', 'b'] }] }), '10.244.7.9', [
      { namespace: 'ml', name: 'stage-4', clusterIP: '10.96.3.4' },
      { namespace: 'other', name: 'db', clusterIP: '10.96.5.6' },
    ]);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('# Kubernetes-managed hosts file.');
    expect(lines).toContain('10.244.7.9\tp1');
    expect(lines).toContain('1.2.3.4\ta\tb');
    expect(lines).toContain('10.96.3.4\tstage-4 stage-4.ml stage-4.ml.svc stage-4.ml.svc.cluster.local');
    expect(lines).toContain('10.96.5.6\tdb.other db.other.svc db.other.svc.cluster.local');
    expect(resolvConfContent('ml')).toBe('search ml.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
  });
});

describe('service environment variables', () => {
  it('names and values as envvars.FromServices', () => {
    const svc: KubeObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'stage-4' },
      spec: { clusterIP: '10.96.3.4', ports: [{ name: 'http', port: 5000 }, { port: 53, protocol: 'UDP' }] },
    };
    expect(Object.fromEntries(serviceEnvVars(svc))).toEqual({
      STAGE_4_SERVICE_HOST: '10.96.3.4',
      STAGE_4_SERVICE_PORT: '5000',
      STAGE_4_SERVICE_PORT_HTTP: '5000',
      STAGE_4_PORT: 'tcp://10.96.3.4:5000',
      STAGE_4_PORT_5000_TCP: 'tcp://10.96.3.4:5000',
      STAGE_4_PORT_5000_TCP_PROTO: 'tcp',
      STAGE_4_PORT_5000_TCP_PORT: '5000',
      STAGE_4_PORT_5000_TCP_ADDR: '10.96.3.4',
      STAGE_4_PORT_53_UDP: 'udp://10.96.3.4:53',
      STAGE_4_PORT_53_UDP_PROTO: 'udp',
      STAGE_4_PORT_53_UDP_PORT: '53',
      STAGE_4_PORT_53_UDP_ADDR: '10.96.3.4',
    });
  });

  it('kubernetes always; the namespace\u2019s Services unless enableServiceLinks is false; never headless ones', () => {
    const store = createClusterStore();
    store.create('namespaces', undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ml' } });
    store.create('services', 'ml', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } });
    store.create('services', 'ml', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'hl' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } });
    store.create('services', 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'elsewhere' }, spec: { ports: [{ port: 80 }] } });
    const keys = (p: KubeObject) => [...serviceEnv(store, p).keys()].filter((k) => k.endsWith('_SERVICE_HOST'));
    expect(keys(pod('ml'))).toEqual(['KUBERNETES_SERVICE_HOST', 'WEB_SERVICE_HOST']);
    expect(keys(pod('ml', { enableServiceLinks: false }))).toEqual(['KUBERNETES_SERVICE_HOST']);
    expect(keys(pod('default'))).toEqual(['ELSEWHERE_SERVICE_HOST', 'KUBERNETES_SERVICE_HOST']);
  });
});

describe('container mount script', () => {
  const exists = (p: string) => ['/', '/etc', '/etc/hosts', '/etc/resolv.conf', '/etc/hostname', '/var', '/opt'].includes(p);
  const isDir = (p: string) => !p.endsWith('.txt') && !p.includes('/files/');

  it('without chroot: binds existing paths, overlays the nearest existing ancestor, creates only top-level dirs on the host', () => {
    const { script, hostDirs } = containerSetupScript(
      [
        { mountPath: '/etc', source: '/d/v/etc-vol', readOnly: false },
        { mountPath: '/var/lib/model/', source: '/d/v/model', readOnly: true },
        { mountPath: '/var/lib/model/sub', source: '/d/v/sub', readOnly: false },
        { mountPath: '/data/in', source: '/d/v/in', readOnly: false },
        { mountPath: '/opt/x/conf.txt', source: '/d/v/cfg/conf.txt', readOnly: false },
      ],
      { hosts: '/d/files/hosts', resolvConf: '/d/files/resolv.conf' },
      '/var/lib/model',
      '/d/scratch',
      { exists, isDir },
    );
    const lines = script.split('\n');
    expect(hostDirs).toEqual(['/data']);
    expect(lines[0]).toBe('set -e');
    expect(lines, script).toContain("mount --bind '/d/v/etc-vol' '/etc'");
    // /etc/hosts lies in the /etc volume: created there if missing, then bound.
    expect(lines, script).toContain("[ -e '/etc/hosts' ] || { mkdir -p '/etc' && : > '/etc/hosts'; }");
    expect(lines, script).toContain("mount --bind '/d/files/hosts' '/etc/hosts'");
    expect(lines, script).toContain("mount -t tmpfs -o mode=700 sandbox-scratch '/d/scratch'");
    expect(lines, script).toContain("mount -t overlay sandbox-overlay -o 'lowerdir=/var,upperdir=/d/scratch/u2,workdir=/d/scratch/w2' '/var'");
    expect(lines, script).toContain("mount -o remount,bind,ro '/var/lib/model'");
    expect(lines, script).toContain("[ -e '/var/lib/model/sub' ] || { mkdir -p '/var/lib/model/sub'; }");
    expect(lines, script).toContain("mount -t overlay sandbox-overlay -o 'lowerdir=/data,upperdir=/d/scratch/u0,workdir=/d/scratch/w0' '/data'");
    expect(lines, script).toContain("mkdir -p '/opt/x' && : > '/opt/x/conf.txt'");
    expect(lines.filter((l) => l.startsWith('mount -t tmpfs'))).toHaveLength(1);
    expect(lines.slice(1, 3)).toEqual(['if [ -n "${PATH+x}" ]; then SBX_PATH=$PATH; fi', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin']);
    expect(lines.slice(-3)).toEqual(["cd '/var/lib/model'", 'if [ -n "${SBX_PATH+x}" ]; then PATH=$SBX_PATH; unset SBX_PATH; else unset PATH; fi', 'exec "$@" 2>&1']);
    // Parents are mounted before children.
    expect(lines.indexOf("mount --bind '/d/v/model' '/var/lib/model'")).toBeLessThan(lines.indexOf("mount --bind '/d/v/sub' '/var/lib/model/sub'"));
  });

  it('with chroot: a new top-level directory lives in a new root that binds the host\u2019s entries, never on the host', () => {
    const { script, hostDirs } = containerSetupScript(
      [
        { mountPath: '/bodywork/project', source: '/d/v/bundle', readOnly: true },
        { mountPath: '/etc/cfg', source: '/d/v/cfg', readOnly: false },
      ],
      { hosts: '/d/files/hosts' },
      undefined,
      '/d/scratch',
      {
        exists,
        isDir,
        chroot: '/usr/sbin/chroot',
        rootEntries: () => [
          { name: 'bin', type: 'link', target: 'usr/bin' },
          { name: 'etc', type: 'dir' },
          { name: 'usr', type: 'dir' },
          { name: '.dockerenv', type: 'file' },
        ],
      },
    );
    const lines = script.split('\n');
    expect(hostDirs).toEqual([]);
    // Few processes however many entries the host's root has: one mkdir, one cp, one mount.
    expect(lines.slice(3, 10)).toEqual([
      "mount -t tmpfs -o mode=700 sandbox-scratch '/d/scratch'",
      "mkdir -m 755 '/d/scratch/root'",
      "mkdir -m 755 '/d/scratch/root/etc' '/d/scratch/root/usr' '/d/scratch/root/bodywork'",
      "cp -P '/bin' '/d/scratch/root/'",
      ": > '/d/scratch/root/.dockerenv'",
      "printf '%s\\n' '/etc /d/scratch/root/etc none rbind 0 0' '/usr /d/scratch/root/usr none rbind 0 0' '/.dockerenv /d/scratch/root/.dockerenv none bind 0 0' > '/d/scratch/fstab'",
      "mount -a -T '/d/scratch/fstab'",
    ]);
    expect(lines).toContain("[ -e '/d/scratch/root/bodywork/project' ] || { mkdir -p '/d/scratch/root/bodywork/project'; }");
    expect(lines).toContain("mount --bind '/d/v/bundle' '/d/scratch/root/bodywork/project'");
    expect(lines).toContain("mount -o remount,bind,ro '/d/scratch/root/bodywork/project'");
    // Under existing host directories, the overlay is made on the new root's view of them.
    expect(lines).toContain("mount -t overlay sandbox-overlay -o 'lowerdir=/d/scratch/root/etc,upperdir=/d/scratch/u0,workdir=/d/scratch/w0' '/d/scratch/root/etc'");
    expect(lines).toContain("mount --bind '/d/files/hosts' '/d/scratch/root/etc/hosts'");
    expect(lines.at(-1)).toBe(`exec '/usr/sbin/chroot' '/d/scratch/root' /bin/sh -c 'cd "$0" && exec "$@"' "$PWD" "$@" 2>&1`);
  });

  it('escapes the new root\u2019s fstab fields as util-linux reads them', () => {
    const { script } = containerSetupScript([{ mountPath: '/new/x', source: '/d/x', readOnly: false }], {}, undefined, '/s', {
      exists: (p) => p !== '/new' && p !== '/new/x',
      isDir: () => true,
      chroot: '/usr/sbin/chroot',
      rootEntries: () => [{ name: "it's a\\dir", type: 'dir' }],
    });
    expect(script).toContain(`'/it'\\''s\\040a\\134dir /s/root/it'\\''s\\040a\\134dir none rbind 0 0'`);
  });

  it('rootless: the command runs as our uid in a user namespace of its own, made before entering a new root', () => {
    const rootless = { unshare: '/usr/bin/unshare', user: { uid: 1000, gid: 1001 } };
    const m = (mountPath: string) => [{ mountPath, source: '/d/v', readOnly: false }];
    const o = { exists: (p: string) => p === '/etc', isDir: () => true, rootEntries: () => [], chroot: '/usr/sbin/chroot', rootless };
    expect(containerSetupScript(m('/etc/x'), {}, '/w', '/s', o).script.split('\n').at(-1)).toBe(
      `cd '/w' && exec '/usr/bin/unshare' --user --map-user=1000 --map-group=1001 -- "$@" 2>&1`,
    );
    // chroot(2) first would forbid unshare(CLONE_NEWUSER): unshare enters the new root itself.
    const inRoot = containerSetupScript(m('/data'), {}, undefined, '/s', o).script;
    expect(inRoot).not.toContain('chroot');
    expect(inRoot.split('\n').at(-1)).toBe(`exec '/usr/bin/unshare' --user --map-user=1000 --map-group=1001 --root='/s/root' --wd="$PWD" -- "$@" 2>&1`);
  });

  it('quotes paths for the shell', () => {
    const { script } = containerSetupScript([{ mountPath: "/etc/it's", source: '/d/a b', readOnly: false }], {}, undefined, '/s', { exists: (p) => p === '/etc', isDir: () => true });
    expect(script).toContain(`mount --bind '/d/a b' '/etc/it'\\''s'`);
  });
});

describe('proxy backends', () => {
  it('only ready addresses of the matching port, in a stable order', () => {
    const ep: KubeObject = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'web' },
      subsets: [
        { addresses: [{ ip: '10.244.1.3' }, { ip: '10.244.1.2' }], notReadyAddresses: [{ ip: '10.244.1.4' }], ports: [{ name: 'http', port: 5000 }, { name: 'm', port: 9090 }] },
      ],
    };
    expect(readyBackends(ep, 'http')).toEqual([{ host: '10.244.1.2', port: 5000 }, { host: '10.244.1.3', port: 5000 }]);
    expect(readyBackends(ep, 'm').map((b) => b.port)).toEqual([9090, 9090]);
    expect(readyBackends(ep, '')).toEqual([]);
    expect(readyBackends(undefined, 'http')).toEqual([]);
  });
});
