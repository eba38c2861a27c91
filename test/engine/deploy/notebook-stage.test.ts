/**
 * Notebook stages (issue 14): Bodywork 3 ("1.1") allowed `executable_module_path: <notebook>.ipynb` and executed it
 * with nbconvert, which its bodywork-core image carried. Here a YAML "1.1" project's batch stage is a notebook,
 * deployed end to end: it runs as the sandbox's non-root pod user (HOME=/, not writable), in a kernel of the image's
 * own Python (the sandbox's venv), its cells' prints reach the stage's log, a failing cell fails the stage with its
 * traceback in the log, and a notebook over its time limit is stopped like a script.
 */
import { describe, expect, it } from 'vitest';
import { deployProject } from '../../../src/engine/deploy/deploy.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { newRunId, planDir, useDeploySandbox, writeProject } from './helpers.js';

const s = useDeploySandbox();
const dirs = s.dirs;

/** An nbformat 4 notebook of code cells, with the `python3` kernelspec a notebook saved by Jupyter names. */
function notebook(...cells: string[]): string {
  return JSON.stringify(
    {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {
        kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' },
        language_info: { name: 'python' },
      },
      cells: cells.map((source, i) => ({ cell_type: 'code', id: `cell-${i}`, metadata: {}, execution_count: null, outputs: [], source })),
    },
    null,
    1,
  );
}

/** A YAML "1.1" project whose one batch stage, `train`, is `notebooks/train.ipynb`. */
async function notebookProject(name: string, nb: string, seconds = 60): Promise<string> {
  const dir = await writeProject({
    'bodywork.yaml': [
      'version: "1.1"',
      'pipeline:',
      `  name: ${name}`,
      '  docker_image: bodyworkml/bodywork-core:latest',
      '  DAG: train',
      'stages:',
      '  train:',
      '    executable_module_path: notebooks/train.ipynb',
      '    cpu_request: 0.1',
      '    memory_request_mb: 50',
      '    batch:',
      `      max_completion_time_seconds: ${seconds}`,
      '      retries: 0',
      'logging:',
      '  log_level: INFO',
      '',
    ].join('\n'),
    'notebooks/train.ipynb': nb,
  });
  dirs.push(dir);
  return dir;
}

async function deploy(dir: string) {
  const { spec, plan } = await planDir(dir);
  const lines: string[] = [];
  const result = await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan, runId: newRunId(), timeoutMs: 240_000, onLogLine: (_stage, line) => lines.push(line) });
  return { result, lines };
}

describe('notebook stages', () => {
  it("runs a notebook as the non-root pod user, in the image's Python, with its cells' prints in the log", async () => {
    const dir = await notebookProject(
      'notebook-ok',
      notebook(
        'import os, sys\nprint("hello from the notebook")\nprint("kernel in the image\'s venv:", sys.prefix != sys.base_prefix)\n',
        // The notebook's directory is its cwd, in the writable working copy: it may write next to itself.
        'open("model.txt", "w").write("weights")\nprint("cwd:", os.path.basename(os.getcwd()))\n',
        'print("read back:", open("model.txt").read())\nprint("to stderr", file=sys.stderr)\n',
      ),
    );
    const { result, lines } = await deploy(dir);
    expect(result.status, JSON.stringify(result.stages)).toBe('success');
    expect(result.stages[0]).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(lines).toContain('[train] hello from the notebook');
    expect(lines).toContain("[train] kernel in the image's venv: True");
    expect(lines).toContain('[train] cwd: notebooks');
    expect(lines).toContain('[train] read back: weights');
    expect(lines).toContain('[train] to stderr');
    // HOME=/ is not writable for the pod's user: IPython would fall back to a temp dir, saying so in the log.
    expect(lines.filter((l) => /not a writable location|Permission denied/.test(l))).toEqual([]);
  });

  it('fails the stage when a cell raises, with the cell and its traceback in the log', async () => {
    const dir = await notebookProject('notebook-raises', notebook('print("before the error")\n', 'raise ValueError("the model did not converge")\n', 'print("never")\n'));
    const { result, lines } = await deploy(dir);
    expect(result.status).toBe('failure');
    expect(result.stages[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(result.stages[0].reason).toMatch(/^BackoffLimitExceeded: .*; attempt 1 \(pod \S+\): exit code 1$/);
    expect(lines).toContain('[train] before the error');
    expect(lines).toContain('[train] bodywork-deploy: train.ipynb failed:');
    expect(lines).toContain('[train] raise ValueError("the model did not converge")');
    expect(lines).toContain('[train] ValueError: the model did not converge');
    expect(lines).not.toContain('[train] never');
    // The stage's result carries the log's tail, which ends with the exception.
    expect(result.stages[0].logTail?.some((l) => l.endsWith(': ValueError: the model did not converge'))).toBe(true);
  });

  it('stops a notebook that runs over its time limit', async () => {
    // The limit counts from the runner's start, the kernel's start included: whether the cell printed yet is timing.
    const dir = await notebookProject('notebook-over-limit', notebook('import time\ntime.sleep(120)\n'), 2);
    const { result, lines } = await deploy(dir);
    expect(result.status).toBe('failure');
    expect(result.stages[0].reason).toMatch(/^BackoffLimitExceeded: .*; attempt 1 \(pod \S+\): exceeded max_completion_time_seconds \(2 s\)$/);
    expect(lines).toContain('[train] bodywork-deploy: train.ipynb exceeded max_completion_time_seconds (2 s): stopped');
  });
});
