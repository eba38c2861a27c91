/** Pod overrides in the plan: strategic merge into the Job and Deployment pod templates, defaults first, then the stage's. */
import type { V1Container, V1PodTemplateSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { PodOverride, PodOverrides, ProjectSpec } from '../../../src/engine/config/spec.js';
import { planObjects, planProject, type CodeBundle, type DeployPlan } from '../../../src/engine/plan/index.js';
import { renderPlanYaml } from '../../../src/engine/plan/render.js';
import { applyPodOverrides } from '../../../src/engine/plan/overrides.js';
import { apiServerProblems } from './k8s-validate.js';
import { irisPipelineSpec } from './specs.js';

const TRAIN = 'stage-1-train-model';
const SERVE = 'stage-2-deploy-scoring-service';

const bundle: CodeBundle = {
  hash: 'ab'.repeat(32),
  files: ['bodywork.ini'],
  entries: [{ path: 'bodywork.ini', bytes: 10, sha256: 'cd'.repeat(32) }],
  totalBytes: 10,
  configMaps: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'code-abababab', labels: {} }, immutable: true, data: { 'bodywork.ini': '[default]\n' } }],
  volume: { name: 'bodywork-project', projected: { sources: [{ configMap: { name: 'code-abababab', items: [{ key: 'bodywork.ini', path: 'bodywork.ini' }] } }] } },
};

const at = { file: 'bodywork-deploy.yaml', line: 1 };
const override = (o: Omit<PodOverride, 'source'>): PodOverride => ({ ...o, source: at });

function planWith(overrides: Omit<PodOverrides, 'file'> | undefined): DeployPlan {
  const spec: ProjectSpec = { ...irisPipelineSpec(), ...(overrides !== undefined ? { overrides: { file: 'bodywork-deploy.yaml', ...overrides } } : {}) };
  return planProject(spec, { namespace: 'ml', commitSha: '951d01c6f0a1e2b3c4d5e6f708192a3b4c5d6e7f', runId: '7', codeBundle: bundle });
}

function template(plan: DeployPlan, stage: string): V1PodTemplateSpec {
  const planned = plan.steps.flatMap((s) => s.stages).find((s) => s.stage === stage);
  if (planned === undefined) throw new Error(`no stage ${stage}`);
  return planned.type === 'batch' ? planned.job.spec!.template : planned.deployment.spec!.template;
}
const main = (t: V1PodTemplateSpec): V1Container => t.spec!.containers[0];

describe('pod overrides in the plan', () => {
  const plain = planWith(undefined);

  it('leave the plan as it was without overrides, or for stages they do not name', () => {
    expect(planWith({ stages: {} }).steps).toEqual(plain.steps);
    const one = planWith({ stages: { [TRAIN]: override({ pod: { priorityClassName: 'high' } }) } });
    expect(template(one, SERVE)).toEqual(template(plain, SERVE));
    expect(plain.overrides).toBeUndefined();
  });

  it('a GPU stage: the limit joins the requests, the toleration and nodeSelector reach the Job\'s pod; the plan says what was set', () => {
    const plan = planWith({
      stages: {
        [TRAIN]: override({
          pod: { nodeSelector: { accelerator: 'nvidia' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] },
          container: { resources: { limits: { 'nvidia.com/gpu': '1' } } },
        }),
      },
    });
    const t = template(plan, TRAIN);
    expect(main(t).resources).toEqual({ requests: { cpu: '500m', memory: '100M' }, limits: { 'nvidia.com/gpu': '1' } });
    expect(t.spec?.nodeSelector).toEqual({ accelerator: 'nvidia' });
    expect(t.spec?.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    // Everything else is as planned without overrides.
    const before = template(plain, TRAIN);
    const { nodeSelector: _n, tolerations: _t, containers: [{ resources: _r, ...container }], ...rest } = t.spec!;
    const { containers: [{ resources: _r0, ...containerBefore }], ...restBefore } = before.spec!;
    expect(rest).toEqual(restBefore);
    expect(container).toEqual(containerBefore);
    expect(t.metadata).toEqual(before.metadata);
    expect(plan.overrides).toEqual({
      file: 'bodywork-deploy.yaml',
      stages: [{ stage: TRAIN, from: ['stage'], sets: ['pod.nodeSelector[accelerator]', 'pod.tolerations', 'container.resources.limits[nvidia.com/gpu]'] }],
    });
    for (const object of planObjects(plan)) expect(apiServerProblems(object)).toEqual([]);
    expect(renderPlanYaml(plan)).toContain('nvidia.com/gpu: "1"');
  });

  it('merges env by name and volumeMounts by mountPath, keeping the engine\'s; volumes by name', () => {
    const plan = planWith({
      defaults: override({
        pod: { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'shared' } }] },
        container: { env: [{ name: 'LOG_LEVEL', value: 'debug' }, { name: 'REGION', value: 'eu' }], volumeMounts: [{ name: 'data', mountPath: '/data' }] },
      }),
      stages: {
        [TRAIN]: override({
          pod: { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'train-only' } }] },
          container: { env: [{ name: 'REGION', value: 'us' }], volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }] },
        }),
      },
    });
    const t = template(plan, TRAIN);
    const before = template(plain, TRAIN);
    expect(main(t).env).toEqual([...main(before).env!, { name: 'LOG_LEVEL', value: 'debug' }, { name: 'REGION', value: 'us' }]);
    expect(main(t).volumeMounts).toEqual([...main(before).volumeMounts!, { name: 'data', mountPath: '/data', readOnly: true }]);
    expect(t.spec?.volumes).toEqual([...before.spec!.volumes!, { name: 'data', persistentVolumeClaim: { claimName: 'train-only' } }]);
    // The service gets the defaults alone.
    const s = template(plan, SERVE);
    expect(main(s).env?.slice(-2)).toEqual([{ name: 'LOG_LEVEL', value: 'debug' }, { name: 'REGION', value: 'eu' }]);
    expect(s.spec?.volumes?.at(-1)).toEqual({ name: 'data', persistentVolumeClaim: { claimName: 'shared' } });
    expect(plan.overrides?.stages).toEqual([
      { stage: TRAIN, from: ['defaults', 'stage'], sets: ['pod.volumes[data]', 'container.env[LOG_LEVEL]', 'container.env[REGION]', 'container.volumeMounts[/data]'] },
      { stage: SERVE, from: ['defaults'], sets: ['pod.volumes[data]', 'container.env[LOG_LEVEL]', 'container.env[REGION]', 'container.volumeMounts[/data]'] },
    ]);
  });

  it('replaces tolerations whole (no merge key), maps merge key by key, the stage after the defaults', () => {
    const plan = planWith({
      defaults: override({
        pod: {
          metadata: { labels: { team: 'ml' }, annotations: { note: 'defaults' } },
          nodeSelector: { pool: 'general', zone: 'a' },
          tolerations: [{ key: 'spot', operator: 'Exists' }],
          terminationGracePeriodSeconds: 30,
        },
      }),
      stages: {
        [SERVE]: override({
          pod: { metadata: { annotations: { note: 'serve' } }, nodeSelector: { pool: 'web' }, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }] },
          container: { securityContext: { runAsNonRoot: true } },
        }),
      },
    });
    const t = template(plan, SERVE);
    expect(t.spec?.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }]);
    expect(t.spec?.nodeSelector).toEqual({ pool: 'web', zone: 'a' });
    expect(t.spec?.terminationGracePeriodSeconds).toBe(30);
    expect(t.spec?.restartPolicy).toBe('Always');
    expect(t.metadata?.labels).toEqual({ ...template(plain, SERVE).metadata?.labels, team: 'ml' });
    expect(t.metadata?.annotations).toEqual({ ...template(plain, SERVE).metadata?.annotations, note: 'serve' });
    expect(main(t).securityContext).toEqual({ runAsNonRoot: true });
    // The Deployment still selects its pods: the selector matches the overridden template's labels.
    const planned = plan.steps[1].stages[0];
    if (planned.type !== 'service') throw new Error('expected the service stage');
    for (const [k, v] of Object.entries(planned.deployment.spec?.selector.matchLabels ?? {})) expect(t.metadata?.labels?.[k]).toBe(v);
    for (const object of planObjects(plan)) expect(apiServerProblems(object)).toEqual([]);
    // The train stage got the defaults' tolerations.
    expect(template(plan, TRAIN).spec?.tolerations).toEqual([{ key: 'spot', operator: 'Exists' }]);
  });

  it('a spec that skipped the config check still cannot break the deployer\'s contract', () => {
    const t = template(plain, TRAIN);
    const spec = { overrides: { file: 'x', stages: { [TRAIN]: override({ pod: { metadata: { labels: { stage: 'other' } } } }) } } };
    expect(() => applyPodOverrides(spec, TRAIN, t)).toThrow(`the pod overrides of stage '${TRAIN}' change the label stage, which the deployer owns`);
    const command = { overrides: { file: 'x', stages: { [TRAIN]: override({ container: { command: ['sleep', '1'] } }) } } };
    expect(() => applyPodOverrides(command, TRAIN, t)).toThrow("change the container's command");
  });
});
