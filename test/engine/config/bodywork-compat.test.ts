/**
 * Values read as Bodywork's own versions read them: accepted with a `path:line` warning where Bodywork would have
 * refused them, and a time limit of 0 as "no limit on the script" in schema "1.1" (Bodywork 3).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadProject } from '../../../src/engine/config/load.js';
import { formatProblem } from '../../../src/engine/config/problems.js';
import { planProject } from '../../../src/engine/plan/index.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function load(files: Record<string, string>) {
  const root = await mkdtemp(join(tmpdir(), 'bodywork-compat-'));
  dirs.push(root);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  const result = await loadProject(root);
  return { ...result, rendered: result.problems.map(formatProblem) };
}

const PROJECT_INI = (logLevel = 'INFO') => `[default]\nPROJECT_NAME=p\nDOCKER_IMAGE=bodyworkml/bodywork-core:latest\n\n[workflow]\nDAG=train >> serve\n\n[logging]\nLOG_LEVEL=${logLevel}\n`;
const TRAIN = (type = 'batch') => `[default]\nSTAGE_TYPE=${type}\nEXECUTABLE_SCRIPT=main.py\nCPU_REQUEST=0.5\nMEMORY_REQUEST_MB=100\n\n[batch]\nMAX_COMPLETION_TIME_SECONDS=30\nRETRIES=1\n`;
const SERVE = (ingress = 'True') => `[default]\nSTAGE_TYPE=service\nEXECUTABLE_SCRIPT=main.py\nCPU_REQUEST=0.5\nMEMORY_REQUEST_MB=100\n\n[service]\nMAX_STARTUP_TIME_SECONDS=30\nREPLICAS=1\nPORT=5000\nINGRESS=${ingress}\n`;

function ini(o: { logLevel?: string; type?: string; ingress?: string; requirements?: boolean } = {}): Record<string, string> {
  return {
    'bodywork.ini': PROJECT_INI(o.logLevel),
    'train/config.ini': TRAIN(o.type),
    'train/main.py': '',
    ...(o.requirements === false ? {} : { 'train/requirements.txt': '' }),
    'serve/config.ini': SERVE(o.ingress),
    'serve/main.py': '',
    'serve/requirements.txt': 'flask\n',
  };
}

function yaml(o: { version?: '1.0' | '1.1'; seconds?: string; logLevel?: string } = {}): Record<string, string> {
  const version = o.version ?? '1.1';
  return {
    'bodywork.yaml':
      `version: "${version}"\n${version === '1.1' ? 'pipeline' : 'project'}:\n  name: p\n  docker_image: bodyworkml/bodywork-core:latest\n  DAG: train\n` +
      `stages:\n  train:\n    executable_module_path: main.py\n    cpu_request: 0.5\n    memory_request_mb: 100\n    batch:\n      max_completion_time_seconds: ${o.seconds ?? '30'}\n      retries: 1\n` +
      `logging:\n  log_level: ${o.logLevel ?? 'INFO'}\n`,
    'main.py': '',
  };
}

describe('values Bodywork refused: read, with a warning at their line', () => {
  it('is silent for a project as Bodywork wrote it', async () => {
    expect((await load(ini())).rendered).toEqual([]);
    expect((await load(yaml())).rendered).toEqual([]);
  });

  it.each([
    ['INGRESS=yes', ini({ ingress: 'yes' }), 'serve/config.ini:11: warning: INGRESS "yes" is read as True; Bodywork 1 accepted only True or False'],
    ['INGRESS=true', ini({ ingress: 'true' }), 'serve/config.ini:11: warning: INGRESS "true" is read as True; Bodywork 1 accepted only True or False'],
    ['STAGE_TYPE=Batch', ini({ type: 'Batch' }), 'train/config.ini:2: warning: STAGE_TYPE "Batch" is read as batch; Bodywork accepted only "batch" or "service", in lower case'],
    ['a missing requirements.txt', ini({ requirements: false }), 'train/config.ini: warning: train/requirements.txt does not exist, so no packages are installed; Bodywork required the file (it may be empty)'],
    ['LOG_LEVEL=info', ini({ logLevel: 'info' }), 'bodywork.ini:9: warning: LOG_LEVEL "info" is read as INFO; Bodywork accepted only upper case (DEBUG, INFO, WARNING, ERROR, CRITICAL)'],
    ['log_level: info', yaml({ logLevel: 'info' }), 'bodywork.yaml:15:14: warning: logging.log_level "info" is read as INFO; Bodywork accepted only upper case (DEBUG, INFO, WARNING, ERROR, CRITICAL)'],
  ])('%s', async (_value, files, warning) => {
    const result = await load(files);
    expect(result.rendered).toEqual([warning]);
    expect(result.spec).toBeDefined();
  });

  it('reads the warned values as the warning says', async () => {
    const { spec } = await load(ini({ ingress: 'yes', type: 'Batch', logLevel: 'info' }));
    expect(spec?.stages.serve.service?.ingress).toBe(true);
    expect(spec?.stages.train.type).toBe('batch');
    expect(spec?.logLevel).toBe('INFO');
  });
});

describe('max_completion_time_seconds: 0', () => {
  it('is no limit on the script in schema "1.1", as Bodywork 3 read it: the pod gets no deadline', async () => {
    const { spec, rendered } = await load(yaml({ seconds: '0' }));
    expect(rendered).toEqual([]);
    expect(spec?.stages.train.batch?.maxCompletionTimeSeconds).toBe(0);
    const stage = planProject(spec!).steps[0].stages[0];
    expect(stage.type === 'batch' && stage.job.spec?.template.spec).not.toHaveProperty('activeDeadlineSeconds');
    expect(stage.type === 'batch' && stage.scriptLimit).toBeUndefined();
    // 30 s bounds the script (the command enforces it); the pod's deadline is only the backstop (plan/limits.ts).
    const limited = planProject((await load(yaml({ seconds: '30' }))).spec!).steps[0].stages[0];
    expect(limited.type === 'batch' && limited.scriptLimit?.seconds).toBe(30);
    expect(limited.type === 'batch' && limited.job.spec?.template.spec?.activeDeadlineSeconds).toBe(660);
  });

  it('is an error in schema "1.0" and INI, whose Bodywork versions waited the limit plus a grace', async () => {
    expect((await load(yaml({ version: '1.0', seconds: '0' }))).rendered).toEqual([
      'bodywork.yaml:12:36: stages.train.batch.max_completion_time_seconds must be a whole number from 1 to 2000000, got "0"',
    ]);
    const files = ini();
    files['train/config.ini'] = files['train/config.ini'].replace('MAX_COMPLETION_TIME_SECONDS=30', 'MAX_COMPLETION_TIME_SECONDS=0');
    expect((await load(files)).rendered).toEqual(['train/config.ini:8: MAX_COMPLETION_TIME_SECONDS must be a whole number from 1 to 2000000, got "0"']);
  });
});

describe('INI ${section:key} interpolation, as Bodywork\'s configparser resolved it', () => {
  it('resolves references across files\' sections before the values are checked', async () => {
    const files = ini();
    files['bodywork.ini'] = PROJECT_INI().replace('DAG=train >> serve', 'FIRST=train\nDAG=${FIRST} >> serve').replace('DOCKER_IMAGE=bodyworkml/bodywork-core:latest', 'TAG=latest\nDOCKER_IMAGE=bodyworkml/bodywork-core:${default:tag}');
    const { spec, rendered } = await load(files);
    expect(rendered).toEqual(['bodywork.ini:3: warning: unknown key TAG in [default] is ignored (known keys: PROJECT_NAME, DOCKER_IMAGE)', 'bodywork.ini:7: warning: unknown key FIRST in [workflow] is ignored (known keys: DAG)']);
    expect(spec?.image).toBe('bodyworkml/bodywork-core:latest');
    expect(spec?.dag).toEqual([['train'], ['serve']]);
  });

  it('reports an unresolvable reference once, at its line, and nothing else about that value', async () => {
    const files = ini();
    files['train/config.ini'] = TRAIN().replace('EXECUTABLE_SCRIPT=main.py', 'EXECUTABLE_SCRIPT=${paths:main}');
    const { spec, rendered } = await load(files);
    expect(spec).toBeUndefined();
    expect(rendered).toEqual(['train/config.ini:3: EXECUTABLE_SCRIPT: "${paths:main}" refers to section [paths], which this file does not have']);
  });
});
