/**
 * How stage pods run, as Bodywork ran them, end to end in the sandbox with INI projects written like the tutorial's
 * (issue 14): each pod in a writable copy of the project with its stage directory as cwd; MAX_COMPLETION_TIME_SECONDS
 * bounding the script alone, not the pip install before it; an INI service's MAX_STARTUP_TIME_SECONDS enforced by the
 * deploy's wait, not by a probe that counts the install.
 */
import { chmod, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployProject } from '../../../src/engine/deploy/deploy.js';
import { createServiceStageRunner } from '../../../src/engine/deploy/service-stage.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { httpServer, newRunId, planDir, removeProject, sharedDir, startDeploySandbox, writeProject, type DeploySandbox } from './helpers.js';

/** Seconds the simulated package index makes every `python -m pip` wait in the `slow-` namespaces. */
const SLOW_PIP_SECONDS = 8;

let s: DeploySandbox;
const dirs: string[] = [];

beforeAll(async () => {
  // A slow package index, simulated: in namespaces named slow-*, a `python` first on PATH sleeps before any
  // `python -m pip`, then runs the image's own python (the next one on PATH), as a slow download would delay pip.
  const slow = await sharedDir();
  dirs.push(slow);
  const wrapper = join(slow, 'python');
  await writeFile(
    wrapper,
    ['#!/bin/sh', `if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then echo "slow index: waiting ${SLOW_PIP_SECONDS} s" >&2; sleep ${SLOW_PIP_SECONDS}; fi`, 'PATH=${PATH#*:} exec python "$@"', ''].join('\n'),
  );
  await chmod(wrapper, 0o755);
  s = await startDeploySandbox({
    kubelet: { containerEnv: (pod, _c, base) => (pod.metadata.namespace?.startsWith('slow-') ? { PATH: `${slow}:${base.PATH}` } : undefined) },
  });
});

afterAll(async () => {
  await s?.stop();
  await Promise.all(dirs.map(removeProject));
});

interface IniStage {
  script: string;
  requirements?: string;
  batch?: { seconds: number; retries?: number };
  service?: { startupSeconds: number; port: number };
}

/** An INI project (bodywork.ini + one directory per stage), as the tutorial's; stage scripts are `<stage>/main.py`. */
async function iniProject(name: string, dag: string, stages: Record<string, IniStage>): Promise<string> {
  const files: Record<string, string> = {
    'bodywork.ini': `[default]\nPROJECT_NAME="${name}"\nDOCKER_IMAGE="bodyworkml/bodywork-core:latest"\n\n[workflow]\nDAG="${dag}"\n\n[logging]\nLOG_LEVEL="INFO"\n`,
  };
  for (const [stage, def] of Object.entries(stages)) {
    const type = def.service ? 'service' : 'batch';
    const section = def.service
      ? `[service]\nMAX_STARTUP_TIME_SECONDS=${def.service.startupSeconds}\nREPLICAS=1\nPORT=${def.service.port}\nINGRESS=False\n`
      : `[batch]\nMAX_COMPLETION_TIME_SECONDS=${def.batch?.seconds ?? 60}\nRETRIES=${def.batch?.retries ?? 0}\n`;
    files[`${stage}/config.ini`] = `[default]\nSTAGE_TYPE="${type}"\nEXECUTABLE_SCRIPT="main.py"\nCPU_REQUEST=0.1\nMEMORY_REQUEST_MB=50\n\n${section}`;
    files[`${stage}/requirements.txt`] = def.requirements ?? '';
    files[`${stage}/main.py`] = def.script;
  }
  const dir = await writeProject(files);
  dirs.push(dir);
  return dir;
}

async function deploy(dir: string, logger = new RecordingLogger()) {
  const { spec, plan } = await planDir(dir);
  const lines: string[] = [];
  const result = await deployProject({ client: s.client, logger, spec, plan, runId: newRunId(), timeoutMs: 240_000, onLogLine: (_stage, line) => lines.push(line) });
  return { result, plan, lines, logger };
}

/** A TCP port nothing listens on now (pods may share the host network when the sandbox cannot isolate them). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

describe('a writable working copy per pod', () => {
  it('runs each stage in its own writable copy of the project, its directory as cwd, as the tutorial needs', async () => {
    const dir = await iniProject('working-copy', 'stage-1-train >> stage-2-check', {
      // Like the tutorial's train_model.py: the model is saved in the cwd, next to the script, and read back.
      'stage-1-train': {
        script: [
          'import os',
          'here = os.path.dirname(os.path.abspath(__file__))',
          'assert os.getcwd() == here, (os.getcwd(), here)',
          'open("model.joblib", "w").write("weights")',
          'print("cwd=" + os.path.basename(os.getcwd()))',
          'print("read back: " + open(os.path.join(here, "model.joblib")).read())',
          // The project root (PYTHONPATH) is writable too, as Bodywork's clone was.
          'open(os.path.join(os.environ["PYTHONPATH"], "shared.txt"), "w").write("x")',
          '',
        ].join('\n'),
      },
      // A later pod gets a fresh copy of the deployed files: nothing the first pod wrote.
      'stage-2-check': {
        script: 'import os\nprint("fresh copy: " + str(not os.path.exists("../stage-1-train/model.joblib")) + " script there: " + str(os.path.exists("../stage-1-train/main.py")))\n',
      },
    });
    const { result, lines } = await deploy(dir);
    expect(result.status, JSON.stringify(result.stages)).toBe('success');
    expect(lines).toContain('[stage-1-train] cwd=stage-1-train');
    expect(lines).toContain('[stage-1-train] read back: weights');
    expect(lines).toContain('[stage-2-check] fresh copy: True script there: True');
  });
});

describe('MAX_COMPLETION_TIME_SECONDS bounds the script, not the install', () => {
  it('runs a stage whose pip install takes longer than its limit, and says the set-up was slow', async () => {
    const dir = await iniProject('slow-install', 'train', {
      train: { requirements: 'pip\n', batch: { seconds: 3 }, script: 'print("trained", flush=True)\n' },
    });
    const { result, lines, logger } = await deploy(dir);
    expect(result.status, JSON.stringify(result.stages)).toBe('success');
    expect(result.stages[0]).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(lines).toContain(`[train] slow index: waiting ${SLOW_PIP_SECONDS} s`);
    expect(lines).toContain('[train] trained');
    const notice = logger.messages('info').find((m) => m.startsWith('[train] attempt 1: the set-up'));
    expect(notice).toMatch(/took \d+ s, longer than MAX_COMPLETION_TIME_SECONDS \(3 s\), which bounds the script alone/);
    expect(Number(/took (\d+) s/.exec(notice ?? '')?.[1])).toBeGreaterThanOrEqual(SLOW_PIP_SECONDS);
  });

  it('stops a script that runs over its limit, and fails every attempt with that reason', async () => {
    const dir = await iniProject('over-limit', 'train', {
      train: { batch: { seconds: 2, retries: 1 }, script: 'import time\nprint("training for ever", flush=True)\ntime.sleep(120)\n' },
    });
    const { result, lines, logger, plan } = await deploy(dir);
    expect(result.status).toBe('failure');
    expect(result.stages[0]).toMatchObject({ status: 'failed', attempts: 2 });
    expect(result.stages[0].reason).toMatch(/^BackoffLimitExceeded: .*; attempt 2 \(pod \S+\): exceeded MAX_COMPLETION_TIME_SECONDS \(2 s\)$/);
    expect(logger.messages('info')).toEqual(
      expect.arrayContaining(['[train] attempt 1/2 failed: exceeded MAX_COMPLETION_TIME_SECONDS (2 s)', '[train] attempt 2/2 failed: exceeded MAX_COMPLETION_TIME_SECONDS (2 s)']),
    );
    expect(lines.filter((l) => l === '[train] bodywork-deploy: main.py exceeded MAX_COMPLETION_TIME_SECONDS (2 s): stopped')).toHaveLength(2);
    // Stopped by the command, not by the pod's deadline (a backstop far past the limit).
    const pods = await s.client.list<V1Pod>('Pod', plan.namespace);
    expect(pods.items.map((p) => p.status?.reason)).toEqual([undefined, undefined]);
    expect(pods.items.map((p) => p.spec?.activeDeadlineSeconds)).toEqual([660, 660]);
  });
});

describe("an INI service's MAX_STARTUP_TIME_SECONDS", () => {
  it('rolls out a service that starts in 8 s against a 5 s limit, without a restart', async () => {
    const port = await freePort();
    const dir = await iniProject('late-start', 'serve', {
      serve: { service: { startupSeconds: 5, port }, script: `import time\nprint("loading the model", flush=True)\ntime.sleep(8)\n${httpServer(port, 'ok')}` },
    });
    const { result, plan, logger } = await deploy(dir);
    expect(result.status, JSON.stringify(result.stages)).toBe('success');
    expect(result.stages[0]).toMatchObject({ status: 'succeeded', readyReplicas: 1 });
    expect(logger.messages('info')).toContain('serve: not ready after MAX_STARTUP_TIME_SECONDS (5 s); waiting up to 90 s more per wave for the install, as Bodywork 1 and 2 did');
    const pods = await s.client.list<V1Pod>('Pod', plan.namespace);
    expect(pods.items.map((p) => p.status?.containerStatuses?.[0]?.restartCount)).toEqual([0]);
  });

  it('fails the rollout, naming the limit and the install allowance, when the service is not ready within them', async () => {
    const dir = await iniProject('never-ready', 'serve', {
      serve: { service: { startupSeconds: 2, port: await freePort() }, script: 'import time\nprint("never listening", flush=True)\ntime.sleep(600)\n' },
    });
    const { spec, plan } = await planDir(dir);
    const stage = plan.steps[0].stages[0];
    if (stage.type !== 'service') throw new Error('expected a service stage');
    // The plan's 90 s allowance for the install, shortened for the test.
    stage.startup.graceSeconds = 3;
    const logger = new RecordingLogger();
    const result = await deployProject({ client: s.client, logger, spec, plan, runId: newRunId(), timeoutMs: 120_000, runServiceStage: createServiceStageRunner({ graceSeconds: 1 }) });
    expect(result.stages[0].status).toBe('failed');
    expect(result.stages[0].reason).toMatch(/did not finish within 6 s: .*\(MAX_STARTUP_TIME_SECONDS is 2 s per wave of new pods, plus 3 s for installing\)$/);
    // A first deployment that failed leaves nothing behind (Bodywork 2.1's rule).
    expect(await s.client.exists('Deployment', plan.namespace, stage.baseName)).toBe(false);
  });
});
