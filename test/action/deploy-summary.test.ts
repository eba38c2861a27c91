import { describe, expect, it } from 'vitest';
import type { DeployResult } from '../../src/engine/deploy/types.js';
import type { DeployPlan } from '../../src/engine/plan/index.js';
import { failureLine, fillPublicUrl, primaryUrl, renderDeploySummary, serviceUrls, stagesOutput } from '../../src/action/deploy-summary.js';
import { SUMMARY_LIMIT_BYTES } from '../../src/action/markdown.js';
import { previewNamespace } from '../../src/action/run-context.js';

const plan = {
  project: 'p',
  namespace: 'ns',
  image: 'img:1',
  labels: {},
  setup: [],
  steps: [
    { index: 1, stages: [{ stage: 'a', type: 'batch' }, { stage: 'b', type: 'batch' }] },
    { index: 2, stages: [{ stage: 'svc', type: 'service', url: 'http://svc.ns.svc.cluster.local:80', baseName: 'svc', service: { metadata: { name: 'svc' }, spec: { ports: [{ port: 80 }] } } }] },
  ],
} as unknown as DeployPlan;

function result(overrides: Partial<DeployResult> = {}): DeployResult {
  return {
    project: 'p',
    namespace: 'ns',
    status: 'failure',
    startedAt: '2026-11-24T00:00:00Z',
    durationMs: 1000,
    stages: [
      { stage: 'a', type: 'batch', step: 1, status: 'failed', attempts: 2, reason: 'exit code 1', logTail: Array.from({ length: 50_000 }, (_, i) => `[a] line ${i} <script>x</script>`) },
      { stage: 'b', type: 'batch', step: 1, status: 'failed', attempts: 1, reason: 'OOMKilled', logTail: Array.from({ length: 50_000 }, (_, i) => `[b] line ${i} ${'x'.repeat(100)}`) },
      { stage: 'svc', type: 'service', step: 2, status: 'skipped', attempts: 0, reason: 'not run' },
    ],
    ...overrides,
  };
}

describe('the deploy summary', () => {
  it('stays under the size limit with huge log tails, keeping the newest lines, escaped', () => {
    const text = renderDeploySummary(plan, result(), { workspace: '.' });
    expect(Buffer.byteLength(text)).toBeLessThan(SUMMARY_LIMIT_BYTES);
    expect(text).toContain('&#91;a&#93; line 49999 &lt;script&gt;x&lt;/script&gt;');
    expect(text).not.toContain('&#91;a&#93; line 0 ');
    expect(text).not.toContain('<script>');
    expect(text).toContain('### Last log lines of <code>b</code> (failed)\n\n<pre>');
    expect(text).not.toContain('<details>');
    expect(text.match(/earlier lines not shown/g)).toHaveLength(2);
  });

  it('puts the failure first: the failure line, the log lines open, the events, then the tables', () => {
    const r = result({
      stages: [
        {
          stage: 'a',
          type: 'batch',
          step: 1,
          status: 'failed',
          attempts: 1,
          reason: 'exit code 1',
          logTail: ['a-x1: loading <img src=x onerror=alert(1)>', 'a-x1: ::error::forged | **bold**'],
          events: [{ object: 'Pod/a-x1', reason: 'FailedScheduling', message: '0/1 nodes are available: 1 Insufficient cpu. <script>', count: 3 }],
        },
        { stage: 'b', type: 'batch', step: 1, status: 'succeeded', attempts: 1 },
        { stage: 'svc', type: 'service', step: 2, status: 'skipped', attempts: 0, reason: "not run: an earlier step failed (stage 'a' failed: exit code 1)" },
      ],
    });
    const text = renderDeploySummary(plan, r, { workspace: '.', sha: 'c'.repeat(40), eventName: 'push' });
    const at = (needle: string) => {
      const i = text.indexOf(needle);
      expect(i, needle).toBeGreaterThanOrEqual(0);
      return i;
    };
    const order = [
      '## ❌ Bodywork deploy: p failed',
      '**Failure:** stage &#39;a&#39; (step 1) failed: exit code 1',
      '### Last log lines of <code>a</code> (failed)\n\n<pre>── a-x1 ──\nloading &lt;img src=x onerror=alert(1)&gt;\n::error::forged &#124; &#42;&#42;bold&#42;&#42;</pre>',
      "### Kubernetes events of <code>a</code>'s pods",
      '<tr><td><code>Pod/a-x1</code></td><td>FailedScheduling</td><td>0/1 nodes are available: 1 Insufficient cpu. &lt;script&gt;</td><td>3</td></tr>',
      '<tr><td>Project</td><td><code>p</code></td></tr>',
      '### DAG',
      '### Stages',
    ].map(at);
    expect(order).toEqual([...order].sort((x, y) => x - y));
    expect(text).not.toContain('<details>');
    expect(text).not.toContain('<script>');
    // No empty header row above the key-value table.
    expect(text).not.toContain('<th></th>');
    // The skipped stage says so once; its reason is the failure line's.
    expect(text).toMatch(/<td><code>svc<\/code><\/td><td>service<\/td><td>⏭️ skipped<\/td>/);
    expect(text.match(/an earlier step failed/g)).toBeNull();
    // A skipped service is not running: no Services table, no kubectl proxy hint.
    expect(text).not.toContain('### Services');
    expect(text).not.toContain('kubectl proxy');
  });

  it('lists only the services that are running', () => {
    const r = result({
      status: 'failure',
      stages: [
        { stage: 'a', type: 'batch', step: 1, status: 'succeeded', attempts: 1 },
        { stage: 'b', type: 'batch', step: 1, status: 'succeeded', attempts: 1 },
        { stage: 'svc', type: 'service', step: 2, status: 'rolled-back', attempts: 1, reason: 'CrashLoopBackOff; rolled back to revision 1', readyReplicas: 1, replicas: 1, url: 'http://svc.ns.svc.cluster.local:80' },
      ],
    });
    const text = renderDeploySummary(plan, r, { workspace: '.' });
    expect(text).toContain('### Services');
    expect(text).toContain('<tr><td><code>svc</code><br>rolled back: the previous version</td><td>1/1</td>');
    const gone = renderDeploySummary(plan, result({ stages: [{ stage: 'svc', type: 'service', step: 2, status: 'failed', attempts: 1, reason: 'ErrImagePull', readyReplicas: 0 }] }), { workspace: '.' });
    expect(gone).not.toContain('### Services');
  });

  it('names the first failed stage, or the run-level reason', () => {
    expect(failureLine(result())).toBe("stage 'a' (step 1) failed: exit code 1");
    expect(failureLine(result({ stages: [], reason: 'the deployment timed out after 30m' }))).toBe('the deployment timed out after 30m');
  });

  it('drops log tails and events from the stages output; picks public URLs first', () => {
    expect(JSON.stringify(stagesOutput(result()))).not.toContain('line 1');
    const withEvents = result({ stages: [{ stage: 'a', type: 'batch', step: 1, status: 'failed', attempts: 1, events: [{ object: 'Pod/a', reason: 'BackOff', message: 'm', count: 1 }] }] });
    expect(stagesOutput(withEvents)[0]).not.toHaveProperty('events');
    const ok = result({
      status: 'success',
      stages: [
        { stage: 'x', type: 'service', step: 1, status: 'succeeded', attempts: 1, url: 'http://x.ns.svc.cluster.local:1' },
        { stage: 'y', type: 'service', step: 1, status: 'succeeded', attempts: 1, url: 'http://y.ns.svc.cluster.local:2', publicUrl: 'https://y.example.com' },
      ],
    });
    expect(primaryUrl(ok)).toBe('https://y.example.com');
    expect(serviceUrls(ok)).toEqual({ x: 'http://x.ns.svc.cluster.local:1', y: 'https://y.example.com' });
  });

  it('fills public-url templates and shortens preview namespaces to 63 characters', () => {
    expect(fillPublicUrl('https://{namespace}.preview.example.com/{service}?s={stage}&pr={pr}', { namespace: 'n-pr-3', service: 'svc', stage: 'stage_1', pr: 3 })).toBe(
      'https://n-pr-3.preview.example.com/svc?s=stage_1&pr=3',
    );
    expect(previewNamespace('iris', 12)).toBe('iris-pr-12');
    const long = previewNamespace(`${'a'.repeat(55)}-bbbbbbbbbb`, 12345);
    expect(long).toBe(`${'a'.repeat(54)}-pr-12345`);
    expect(long.length).toBeLessThanOrEqual(63);
  });
});
