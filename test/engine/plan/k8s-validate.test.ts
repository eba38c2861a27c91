import { describe, expect, it } from 'vitest';
import { apiServerProblems } from './k8s-validate.js';

// The plan tests lean on this helper to say "a real API server accepts it"; these cases show it refuses what a server refuses.
function deployment(overrides: { selector?: Record<string, string>; labels?: Record<string, string>; extra?: object } = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'ns' },
    spec: {
      selector: { matchLabels: overrides.selector ?? { stage: 'web' } },
      template: { metadata: { labels: overrides.labels ?? { stage: 'web' } }, spec: { containers: [{ name: 'main', image: 'nginx', ...overrides.extra }] } },
    },
  };
}

describe('apiServerProblems', () => {
  it('accepts a minimal valid Deployment', () => {
    expect(apiServerProblems(deployment())).toEqual([]);
  });

  it('reports a selector that does not match the pod template labels', () => {
    expect(apiServerProblems(deployment({ labels: { stage: 'other' } }))).toContain("spec.selector: 'stage=web' does not match the template labels");
  });

  it('reports fields the schema does not know', () => {
    expect(apiServerProblems(deployment({ extra: { imagePullPolcy: 'Always' } }))).toContain(
      'Deployment.spec.template.spec.containers[0].imagePullPolcy: unknown field of V1Container',
    );
  });

  it('reports label values longer than 63 characters', () => {
    const long = 'x'.repeat(64);
    expect(apiServerProblems(deployment({ selector: { stage: long }, labels: { stage: long } })).join('\n')).toMatch(/invalid label value/);
  });

  it('reports schema type errors', () => {
    const bad = deployment();
    (bad.spec as Record<string, unknown>).replicas = '2';
    expect(apiServerProblems(bad).join('\n')).toMatch(/^schema: .*replicas/m);
  });

  it('reports a Job whose pods would restart in place and a Service name starting with a digit', () => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'train', namespace: 'ns' },
      spec: { template: { spec: { restartPolicy: 'Always', containers: [{ name: 'main', image: 'python' }] } } },
    };
    expect(apiServerProblems(job)).toContain('Job pods must have restartPolicy Never or OnFailure, not Always');
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: '1-web', namespace: 'ns' }, spec: { ports: [{ port: 80 }] } };
    expect(apiServerProblems(service)).toContain("metadata.name: invalid Service name '1-web'");
  });
});
