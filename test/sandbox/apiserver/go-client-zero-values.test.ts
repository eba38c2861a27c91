/**
 * Go clients omit zero values (omitempty), so the server must read "absent" as the type's zero
 * the way the real API server does.
 */
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('zero values from Go clients', () => {
  it('a Scale without spec.replicas scales to zero (autoscaling/v1 Scale.spec.replicas is omitempty)', async () => {
    const apps = h.kc.makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({
      namespace: 'default',
      body: {
        metadata: { name: 'zero' },
        spec: { replicas: 2, selector: { matchLabels: { app: 'zero' } }, template: { metadata: { labels: { app: 'zero' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
      },
    });
    const res = await h.fetch(`${h.url}/apis/apps/v1/namespaces/default/deployments/zero/scale`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'zero', namespace: 'default' }, spec: {} }),
    });
    expect(res.status).toBe(200);
    expect((await apps.readNamespacedDeployment({ name: 'zero', namespace: 'default' })).spec?.replicas).toBe(0);
  });

  it('a Service port with targetPort 0 targets its port (SetDefaults_Service)', async () => {
    const core = h.kc.makeApiClient(CoreV1Api);
    const svc = await core.createNamespacedService({
      namespace: 'default',
      body: { metadata: { name: 'zero-target' }, spec: { selector: { app: 'x' }, ports: [{ port: 5000, targetPort: 0 as unknown as number }] } },
    });
    expect(svc.spec?.ports?.[0]?.targetPort).toBe(5000);
  });
});
