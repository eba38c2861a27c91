/** The sandbox node's image-pull emulation (image-pull.ts), with a hand-stepped clock: no processes, no cluster. */
import { describe, expect, it } from 'vitest';
import { canonicalImage, ImagePuller, registryHost, secretCredentials, type RegistryCredential } from '../../../src/sandbox/kubelet/image-pull.js';
import { pullCredentials } from '../../../src/sandbox/kubelet/pull-secrets.js';

const IMAGE = 'ghcr.io/acme/model:1';
const REGISTRY = { server: 'ghcr.io', username: 'acme-bot', password: 'hunter2', images: [IMAGE] };
const GOOD: RegistryCredential[] = [{ server: 'ghcr.io', username: 'acme-bot', password: 'hunter2' }];

function puller(now: { t: number }) {
  const events: string[] = [];
  const p = new ImagePuller({ registries: [REGISTRY], clock: { now: () => now.t } });
  const ensure = (image: string, creds: RegistryCredential[], uid = 'pod-1', policy?: string) => p.ensure(uid, image, policy, creds, (type, reason, message) => events.push(`${type} ${reason}: ${message}`));
  return { p, events, ensure };
}

function dockerconfig(auths: unknown): { type: string; data: Record<string, string> } {
  return { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths })).toString('base64') } };
}

describe('image references', () => {
  it('finds the registry host and the canonical reference as the runtime does', () => {
    expect(registryHost('busybox')).toBe('docker.io');
    expect(registryHost('acme/x:1')).toBe('docker.io');
    expect(registryHost('index.docker.io/acme/x')).toBe('docker.io');
    expect(registryHost('GHCR.io/acme/x:1')).toBe('ghcr.io');
    expect(registryHost('localhost:5000/x')).toBe('localhost:5000');
    expect(canonicalImage('busybox')).toBe('docker.io/library/busybox:latest');
    expect(canonicalImage('ghcr.io/acme/x')).toBe('ghcr.io/acme/x:latest');
    expect(canonicalImage('ghcr.io/acme/x@sha256:ab')).toBe('ghcr.io/acme/x@sha256:ab');
    expect(canonicalImage('registry:5000/acme/x:2')).toBe('registry:5000/acme/x:2');
  });
});

describe('pull secrets', () => {
  it('reads username/password, else auth, from dockerconfigjson and legacy dockercfg', () => {
    const auth = Buffer.from('bob:s3cr:et').toString('base64');
    expect(secretCredentials(dockerconfig({ 'https://ghcr.io': { username: 'u', password: 'p' }, 'quay.io': { auth } }))).toEqual([
      { server: 'ghcr.io', username: 'u', password: 'p' },
      { server: 'quay.io', username: 'bob', password: 's3cr:et' },
    ]);
    const legacy = { type: 'kubernetes.io/dockercfg', data: { '.dockercfg': Buffer.from(JSON.stringify({ 'https://index.docker.io/v1/': { auth } })).toString('base64') } };
    expect(secretCredentials(legacy)).toEqual([{ server: 'docker.io', username: 'bob', password: 's3cr:et' }]);
    expect(secretCredentials({ data: { '.dockerconfigjson': 'not base64 json' } })).toEqual([]);
    expect(secretCredentials(undefined)).toEqual([]);
  });

  it("collects the pod's pull secrets from the node's cache and names the missing ones", () => {
    const secrets = new Map([['ns/regcred', { metadata: { name: 'regcred', namespace: 'ns' }, ...dockerconfig({ 'ghcr.io': { username: 'u', password: 'p' } }) }]]);
    const api = { find: (_key: string, ns: string | undefined, name: string) => secrets.get(`${ns}/${name}`) as any };
    const pod = { metadata: { name: 'p', namespace: 'ns' }, spec: { imagePullSecrets: [{ name: 'regcred' }, { name: 'gone' }] } } as any;
    expect(pullCredentials(api, pod)).toEqual({ credentials: [{ server: 'ghcr.io', username: 'u', password: 'p' }], missing: ['gone'] });
  });
});

describe('ImagePuller', () => {
  it('treats images outside the private registries as public and present', () => {
    const { ensure, events } = puller({ t: 0 });
    expect(ensure('python:3.12', [])).toEqual({ ok: true });
    expect(events).toEqual(['Normal Pulled: Container image "python:3.12" already present on machine']);
  });

  it('pulls a private image with matching credentials, reporting Pulling and Pulled', () => {
    const { ensure, events } = puller({ t: 0 });
    expect(ensure(IMAGE, GOOD)).toEqual({ ok: true });
    expect(events[0]).toBe(`Normal Pulling: Pulling image "${IMAGE}"`);
    expect(events[1]).toMatch(/^Normal Pulled: Successfully pulled image "ghcr\.io\/acme\/model:1" in \S+ \(\S+ including waiting\)\. Image size: \d+ bytes\.$/);
    // IfNotPresent: present now, for a pod with the credentials.
    expect(ensure(IMAGE, GOOD, 'pod-2', 'IfNotPresent')).toEqual({ ok: true });
    expect(events[2]).toBe(`Normal Pulled: Container image "${IMAGE}" already present on machine`);
  });

  it('refuses a pull without credentials, or with the wrong ones, as unauthorized, and backs off per pod and image', () => {
    const now = { t: 1_000_000 };
    const { ensure, events } = puller(now);
    const first = ensure(IMAGE, []);
    expect(first).toMatchObject({ ok: false, reason: 'ErrImagePull', retryInMs: 10_000 });
    expect(first.ok === false && first.message).toContain(`failed to pull and unpack image "${IMAGE}"`);
    expect(first.ok === false && first.message).toContain('401 Unauthorized');
    expect(events).toEqual([`Normal Pulling: Pulling image "${IMAGE}"`, `Warning Failed: Failed to pull image "${IMAGE}": ${first.ok === false ? first.message : ''}`]);
    now.t += 4_000;
    expect(ensure(IMAGE, [])).toEqual({ ok: false, reason: 'ImagePullBackOff', message: `Back-off pulling image "${IMAGE}"`, retryInMs: 6_000 });
    expect(events.at(-1)).toBe(`Normal BackOff: Back-off pulling image "${IMAGE}"`);
    // Another pod is not in this one's back-off.
    expect(ensure(IMAGE, [{ ...GOOD[0], password: 'wrong' }], 'pod-2')).toMatchObject({ ok: false, reason: 'ErrImagePull' });
    now.t += 6_000;
    expect(ensure(IMAGE, [])).toMatchObject({ ok: false, reason: 'ErrImagePull', retryInMs: 20_000 });
    now.t += 20_000;
    expect(ensure(IMAGE, [])).toMatchObject({ ok: false, reason: 'ErrImagePull', retryInMs: 40_000 });
    // Twice the cap without a failure resets the back-off to its base.
    now.t += 600_001;
    expect(ensure(IMAGE, [])).toMatchObject({ ok: false, reason: 'ErrImagePull', retryInMs: 10_000 });
  });

  it('caps the back-off at 300 s', () => {
    const now = { t: 0 };
    const { ensure } = puller(now);
    let last = 0;
    for (let i = 0; i < 8; i++) {
      const r = ensure(IMAGE, []);
      if (r.ok || r.retryInMs === undefined) throw new Error('expected a failed pull');
      last = r.retryInMs;
      now.t += last;
    }
    expect(last).toBe(300_000);
  });

  it('says not found for an image the registry lacks, once authorized; unauthorized first otherwise', () => {
    const { ensure } = puller({ t: 0 });
    const missing = ensure('ghcr.io/acme/other:1', GOOD);
    expect(missing.ok === false && missing.message).toMatch(/code = NotFound .*ghcr\.io\/acme\/other:1: not found$/);
    const hidden = ensure('ghcr.io/acme/other:1', [], 'pod-2');
    expect(hidden.ok === false && hidden.message).toContain('401 Unauthorized');
  });

  it('checks credentials even for an image already on the node, and honours pull policy Never', () => {
    const { ensure } = puller({ t: 0 });
    expect(ensure(IMAGE, [], 'pod-1', 'Never')).toEqual({ ok: false, reason: 'ErrImageNeverPull', message: `Container image "${IMAGE}" is not present with pull policy of Never` });
    expect(ensure(IMAGE, GOOD, 'pod-2')).toEqual({ ok: true });
    expect(ensure(IMAGE, [], 'pod-3', 'IfNotPresent')).toMatchObject({ ok: false, reason: 'ErrImagePull' });
    expect(ensure(IMAGE, GOOD, 'pod-4', 'Never')).toEqual({ ok: true });
  });

  it('forgets a pod', () => {
    const { p, ensure } = puller({ t: 0 });
    ensure(IMAGE, []);
    p.forget('pod-1');
    expect(ensure(IMAGE, [])).toMatchObject({ reason: 'ErrImagePull' });
  });
});
