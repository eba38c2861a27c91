import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { loadProject } from '../../../src/engine/config/load.js';
import { formatProblem } from '../../../src/engine/config/problems.js';
import type { ProjectSpec } from '../../../src/engine/config/spec.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const fixture = (name: string) => path.join(repo, 'test/fixtures/projects', name);
const rendered = async (dir: string) => (await loadProject(dir)).problems.map(formatProblem);

/** The iris example's `[secrets]`: the model store's keys, one a line from `line`, in Secret `model-store`. */
function modelStoreRefs(file: string, line: number): ProjectSpec['stages'][string]['secrets'] {
  return ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_DEFAULT_REGION', 'AWS_ENDPOINT_URL', 'S3_BUCKET'].map((key, i) => ({
    env: key,
    key,
    secret: 'model-store',
    source: { file, line: line + i },
  }));
}

describe('loadProject on the examples', () => {
  it('reads the tutorial\'s INI project, quoted values and all, into the expected ProjectSpec', async () => {
    // Given the tutorial's exact config text (examples/iris-pipeline)
    const root = path.join(repo, 'examples/iris-pipeline');

    // When it is loaded
    const result = await loadProject(root);

    // Then there are no problems, and every field is as the tutorial wrote it
    expect(result.problems).toEqual([]);
    expect(result.spec).toEqual<ProjectSpec>({
      format: 'ini',
      root,
      configFile: 'bodywork.ini',
      name: 'bodywork-ml-pipeline-project',
      image: 'bodyworkml/bodywork-core:latest',
      dag: [['stage-1-train-model'], ['stage-2-deploy-scoring-service']],
      dagSource: { file: 'bodywork.ini', line: 6 },
      logLevel: 'INFO',
      stages: {
        'stage-1-train-model': {
          name: 'stage-1-train-model',
          type: 'batch',
          executable: 'stage-1-train-model/train_model.py',
          args: [],
          cpuRequest: 0.5,
          memoryRequestMb: 100,
          requirements: ['boto3', 'joblib', 'scikit-learn'],
          requirementsFile: 'stage-1-train-model/requirements.txt',
          secrets: modelStoreRefs('stage-1-train-model/config.ini', 12),
          batch: { maxCompletionTimeSeconds: 30, retries: 2 },
          source: { file: 'stage-1-train-model/config.ini', line: 1 },
        },
        'stage-2-deploy-scoring-service': {
          name: 'stage-2-deploy-scoring-service',
          type: 'service',
          executable: 'stage-2-deploy-scoring-service/serve_model.py',
          args: [],
          cpuRequest: 0.25,
          memoryRequestMb: 100,
          requirements: ['boto3', 'flask', 'joblib', 'numpy', 'scikit-learn'],
          requirementsFile: 'stage-2-deploy-scoring-service/requirements.txt',
          secrets: modelStoreRefs('stage-2-deploy-scoring-service/config.ini', 13),
          service: { maxStartupTimeSeconds: 30, replicas: 2, port: 5000, ingress: false },
          source: { file: 'stage-2-deploy-scoring-service/config.ini', line: 1 },
        },
      },
    });
  });

  it('reads the YAML example (schema 1.1) with positions, args and run_on_failure', async () => {
    const root = path.join(repo, 'examples/yaml-pipeline');

    const result = await loadProject(root);

    expect(result.problems).toEqual([]);
    const spec = result.spec!;
    expect(spec).toMatchObject({
      format: 'yaml',
      schemaVersion: '1.1',
      root,
      configFile: 'bodywork.yaml',
      name: 'bodywork-yaml-example',
      image: 'bodyworkml/bodywork-core:latest',
      dag: [['prepare'], ['hello-api'], ['hello-client']],
      dagSource: { file: 'bodywork.yaml', line: 5, column: 8 },
      runOnFailure: 'on-failure',
      logLevel: 'INFO',
    });
    expect(spec.namespace).toBeUndefined();
    expect(Object.keys(spec.stages)).toEqual(['prepare', 'hello-api', 'hello-client', 'on-failure']);
    expect(spec.stages.prepare).toEqual({
      name: 'prepare',
      type: 'batch',
      executable: 'prepare/main.py',
      args: ['Hello', 'World'],
      cpuRequest: 0.1,
      memoryRequestMb: 100,
      requirements: [],
      secrets: [],
      batch: { maxCompletionTimeSeconds: 30, retries: 1 },
      source: { file: 'bodywork.yaml', line: 8, column: 3 },
    });
    expect(spec.stages['hello-api']).toEqual({
      name: 'hello-api',
      type: 'service',
      executable: 'hello_api/main.py',
      args: [],
      cpuRequest: 0.1,
      memoryRequestMb: 100,
      requirements: ['flask'],
      secrets: [],
      service: { maxStartupTimeSeconds: 60, replicas: 2, port: 5000, ingress: false },
      source: { file: 'bodywork.yaml', line: 16, column: 3 },
    });
    expect(spec.stages['hello-client'].service).toEqual({ maxStartupTimeSeconds: 60, replicas: 1, port: 5000, ingress: false });
    expect(spec.stages['on-failure'].batch).toEqual({ maxCompletionTimeSeconds: 30, retries: 0 });
  });
});

describe('loadProject on valid variations', () => {
  it('follows configparser: "key: value", case-insensitive keys, comments, continuation lines, [secrets] and requirements.txt', async () => {
    const result = await loadProject(fixture('ini-valid-configparser-syntax'));

    // Read, with a warning each where Bodywork itself would have refused the value.
    expect(result.problems.map(formatProblem)).toEqual([
      'bodywork.ini:12: warning: LOG_LEVEL "info" is read as INFO; Bodywork accepted only upper case (DEBUG, INFO, WARNING, ERROR, CRITICAL)',
      'stage-2-serve/config.ini: warning: stage-2-serve/requirements.txt does not exist, so no packages are installed; Bodywork required the file (it may be empty)',
      'stage-2-serve/config.ini:11: warning: INGRESS "no" is read as False; Bodywork 1 accepted only True or False',
    ]);
    const spec = result.spec!;
    expect(spec.name).toBe('iris');
    expect(spec.image).toBe('bodyworkml/bodywork-core:1.0');
    expect(spec.dag).toEqual([['stage-1-train'], ['stage-2-serve']]);
    expect(spec.dagSource).toEqual({ file: 'bodywork.ini', line: 8 });
    expect(spec.logLevel).toBe('INFO');
    expect(spec.stages['stage-1-train'].secrets).toEqual([
      { env: 'AWS_ACCESS_KEY_ID', secret: 'aws-credentials', key: 'AWS_ACCESS_KEY_ID', source: { file: 'stage-1-train/config.ini', line: 12 } },
    ]);
    expect(spec.stages['stage-1-train'].requirements).toEqual(['joblib==1.1.0', 'scikit-learn']);
    expect(spec.stages['stage-1-train'].requirementsFile).toBe('stage-1-train/requirements.txt');
    expect(spec.stages['stage-2-serve'].requirementsFile).toBeUndefined();
    expect(spec.stages['stage-2-serve'].service?.ingress).toBe(false);
  });

  it('reads schema 1.0, whose project section is called "project"', async () => {
    const result = await loadProject(fixture('yaml-schema-1-0'));

    expect(result.problems).toEqual([]);
    expect(result.spec).toMatchObject({ format: 'yaml', schemaVersion: '1.0', name: 'iris', dag: [['stage_1_train'], ['stage_2_serve']] });
    expect(result.spec?.stages.stage_2_serve.service).toEqual({ maxStartupTimeSeconds: 30, replicas: 2, port: 5000, ingress: true });
  });

  it('accepts bodywork.yml', async () => {
    const result = await loadProject(fixture('yaml-yml-extension'));

    expect(result.problems).toEqual([]);
    expect(result.spec?.configFile).toBe('bodywork.yml');
  });

  it.each<[string, string, string[]]>([
    [
      'ignores bodywork.ini when bodywork.yaml is present, with a warning',
      'yaml-and-ini',
      [
        'bodywork.ini: warning: ignored: the project is read from bodywork.yaml (only one project file is used)',
      ],
    ],
    [
      'accepts usage_stats and secrets_group with a warning that they are ignored',
      'yaml-ignored-keys',
      [
        'bodywork.yaml:6:3: warning: pipeline.usage_stats is accepted but ignored: bodywork-deploy sends no usage statistics',
        'bodywork.yaml:7:3: warning: pipeline.secrets_group is accepted but ignored: bodywork-deploy does not copy secrets from a group; create the Secrets named in stages.*.secrets in the target namespace',
      ],
    ],
  ])('%s', async (_behaviour, name, expected) => {
    const result = await loadProject(fixture(name));

    expect(result.problems.map(formatProblem)).toEqual(expected);
    expect(result.spec?.format).toBe('yaml');
  });
});

describe('loadProject on broken projects reports every problem, rendered as path:line[:col]: message', () => {
  it.each<[string, string, string[]]>([
    [
      'an image reference with upper-case path components',
      'ini-bad-image',
      [
        'bodywork.ini:3: DOCKER_IMAGE must be an image reference like [registry[:port]/]name[:tag][@sha256:digest] with a lower-case name, got "Bodyworkml/Bodywork-Core:latest"',
      ],
    ],
    [
      'an INGRESS value that is not a boolean',
      'ini-bad-ingress',
      [
        'stage-2-serve/config.ini:11: INGRESS must be True or False (or yes/no, on/off, 1/0), got "maybe"',
      ],
    ],
    [
      'a LOG_LEVEL that Python logging does not know',
      'ini-bad-log-level',
      [
        'bodywork.ini:9: LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got "VERBOSE"',
      ],
    ],
    [
      'a PROJECT_NAME that cannot become a Kubernetes name',
      'ini-bad-project-name',
      [
        'bodywork.ini:2: PROJECT_NAME must be a name with at least one letter or digit (it becomes a Kubernetes name: lower-cased, other characters replaced by "-", shortened past 63 characters), got "!!!"',
      ],
    ],
    [
      'secret variables and Secret names Kubernetes would reject',
      'ini-bad-secrets',
      [
        'stage-2-serve/config.ini:14: [secrets] key must be an environment variable name (letters, digits and "_", not starting with a digit), got "DB-PASSWORD"',
        'stage-2-serve/config.ini:15: [secrets] USERNAME must be a Kubernetes Secret name (lower-case letters, digits, "-" and ".", starting and ending with a letter or digit), got "db_credentials"',
      ],
    ],
    [
      'a stage listed twice in the DAG',
      'ini-dag-duplicate-stage',
      [
        'bodywork.ini:6: DAG lists stage "stage-1-train" twice, in step 1 and again in step 3; a stage can run only once',
      ],
    ],
    [
      'an empty stage name in a DAG step, with the step number',
      'ini-dag-empty-stage-name',
      [
        'bodywork.ini:6: DAG step 2 has an empty stage name (expected stage names separated by "," within a step and ">>" between steps), got "stage-1-train >> , stage-2-serve"',
      ],
    ],
    [
      'a single ">" where the DAG needs ">>"',
      'ini-dag-single-arrow',
      [
        'bodywork.ini:6: DAG step 1 has "stage-1-train>stage-2-serve", which is not a stage name (expected stage names separated by "," within a step and ">>" between steps)',
      ],
    ],
    [
      'a key set twice in one section (configparser strict mode)',
      'ini-duplicate-key',
      [
        'stage-2-serve/config.ini:10: duplicate key replicas in [service]; it was already set at line 9',
      ],
    ],
    [
      'a section defined twice, and the key repeated in it',
      'ini-duplicate-section',
      [
        'stage-1-train/config.ini:11: duplicate section [batch]; it was already defined at line 7',
        'stage-1-train/config.ini:12: duplicate key RETRIES in [batch]; it was already set at line 9',
      ],
    ],
    [
      'a line with an empty key',
      'ini-empty-key',
      [
        'stage-2-serve/config.ini:11: malformed line: the key before "=" is empty, got "= 80"',
      ],
    ],
    [
      'an EXECUTABLE_SCRIPT that leaves the project',
      'ini-executable-outside-project',
      [
        'stage-1-train/config.ini:3: EXECUTABLE_SCRIPT must name a file in stage-1-train/, got "../../main.py"',
      ],
    ],
    [
      'a key before the first section header',
      'ini-key-before-section',
      [
        'bodywork.ini:2: key NAME appears before any [section] header; put it under a section such as [default]',
      ],
    ],
    [
      'a line without "=" or ":" (and the key it was meant to set)',
      'ini-malformed-line',
      [
        'stage-1-train/config.ini:7: missing key RETRIES in [batch]',
        'stage-1-train/config.ini:9: malformed line: expected "KEY = value", "[section]" or a comment starting with # or ;, got "RETRIES 2"',
      ],
    ],
    [
      'a section header without its closing bracket',
      'ini-malformed-section-header',
      [
        'stage-1-train/config.ini: missing section [batch]; expected it to set MAX_COMPLETION_TIME_SECONDS and RETRIES',
        'stage-1-train/config.ini:7: malformed section header: expected "[name]", got "[batch"',
      ],
    ],
    [
      'an EXECUTABLE_SCRIPT that does not exist',
      'ini-missing-executable',
      [
        'stage-1-train/config.ini:3: EXECUTABLE_SCRIPT must name a file in stage-1-train/, got "train.py" (stage-1-train/train.py does not exist)',
      ],
    ],
    [
      'a missing key at its section header',
      'ini-missing-key',
      [
        'stage-1-train/config.ini:7: missing key RETRIES in [batch]',
      ],
    ],
    [
      'a missing section of bodywork.ini',
      'ini-missing-section',
      [
        'bodywork.ini: missing section [logging]; expected it to set LOG_LEVEL',
      ],
    ],
    [
      'a stage directory without config.ini',
      'ini-missing-stage-config',
      [
        'stage-2-serve/config.ini: file not found; stage "stage-2-serve" needs a config.ini in its directory stage-2-serve/',
      ],
    ],
    [
      'a directory without any project file',
      'ini-no-project-file',
      [
        '.: no Bodywork project file found; expected bodywork.yaml, bodywork.yml or bodywork.ini in the project directory',
      ],
    ],
    [
      'a non-numeric REPLICAS',
      'ini-not-a-number',
      [
        'stage-2-serve/config.ini:9: REPLICAS must be a whole number from 1 to 2147483647, got "two"',
      ],
    ],
    [
      'every out-of-range number in two stage files',
      'ini-numbers-out-of-range',
      [
        'stage-1-train/config.ini:4: CPU_REQUEST must be a number from 0.001 to 1000000, got "0"',
        'stage-1-train/config.ini:5: MEMORY_REQUEST_MB must be a whole number from 1 to 9000000000000, got "100.5"',
        'stage-1-train/config.ini:8: MAX_COMPLETION_TIME_SECONDS must be a whole number from 1 to 2000000, got "0"',
        'stage-1-train/config.ini:9: RETRIES must be a whole number from 0 to 2147483647, got "-1"',
        'stage-2-serve/config.ini:8: MAX_STARTUP_TIME_SECONDS must be a whole number from 1 to 2000000, got "1.5"',
        'stage-2-serve/config.ini:9: REPLICAS must be a whole number from 1 to 2147483647, got "0"',
        'stage-2-serve/config.ini:10: PORT must be a whole number from 1 to 65535, got "70000"',
      ],
    ],
    [
      'problems in bodywork.ini and two stage configs together',
      'ini-problems-in-several-files',
      [
        'bodywork.ini:1: missing key DOCKER_IMAGE in [default]',
        'stage-1-train/config.ini:4: CPU_REQUEST must be a number from 0.001 to 1000000, got "half"',
        'stage-2-serve/config.ini:2: STAGE_TYPE must be "batch" or "service", got "services"',
      ],
    ],
    [
      'unknown keys and sections as warnings with the nearest known name',
      'ini-unknown-keys-and-sections',
      [
        'bodywork.ini:9: warning: unknown key FORMAT in [logging] is ignored (known keys: LOG_LEVEL)',
        'stage-1-train/config.ini:7: missing key RETRIES in [batch]',
        'stage-1-train/config.ini:9: warning: unknown key RETRYS in [batch]; did you mean RETRIES?',
        'stage-2-serve/config.ini: missing section [service]; expected it to set MAX_STARTUP_TIME_SECONDS, REPLICAS and PORT',
        'stage-2-serve/config.ini:7: warning: unknown section [sevice]; did you mean [service]?',
      ],
    ],
    [
      'DAG stages without a stage directory, suggesting the nearest one',
      'ini-unknown-stage',
      [
        'bodywork.ini:6: DAG names stage "monitor", but the project has no stage directory monitor/ (known stages: "stage-1-train", "stage-2-serve")',
        'bodywork.ini:6: DAG names stage "stage-1-trian", but the project has no stage directory stage-1-trian/; did you mean "stage-1-train"?',
      ],
    ],
    [
      'an unknown STAGE_TYPE',
      'ini-unknown-stage-type',
      [
        'stage-1-train/config.ini:2: STAGE_TYPE must be "batch" or "service", got "job"',
      ],
    ],
    [
      'a docker_image that is not a valid image reference',
      'yaml-bad-image',
      [
        'bodywork.yaml:4:17: pipeline.docker_image must be an image reference like [registry[:port]/]name[:tag][@sha256:digest] with a lower-case name, got "bodyworkml/bodywork-core:latest:v2"',
      ],
    ],
    [
      'a log_level that Python logging does not know',
      'yaml-bad-log-level',
      [
        'bodywork.yaml:24:14: logging.log_level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got "verbose"',
      ],
    ],
    [
      'a pipeline name and namespace Kubernetes would reject',
      'yaml-bad-name-and-namespace',
      [
        'bodywork.yaml:3:9: pipeline.name must be a name with at least one letter or digit (it becomes a Kubernetes name: lower-cased, other characters replaced by "-", shortened past 63 characters), got "__"',
        'bodywork.yaml:4:14: pipeline.namespace must be a Kubernetes namespace name (lower-case letters, digits and "-", at most 63 characters), got "ML_Pipelines"',
      ],
    ],
    [
      'secret variables and Secret names Kubernetes would reject',
      'yaml-bad-secrets',
      [
        'bodywork.yaml:24:7: stages.stage_2_serve.secrets key must be an environment variable name (letters, digits and "_", not starting with a digit), got "db-password"',
        'bodywork.yaml:25:17: stages.stage_2_serve.secrets.USERNAME must be a Kubernetes Secret name (lower-case letters, digits, "-" and ".", starting and ending with a letter or digit), got "DB_Credentials"',
      ],
    ],
    [
      'a stage with both batch and service',
      'yaml-batch-and-service',
      [
        'bodywork.yaml:7:3: stages.stage_1_train must have exactly one of batch or service, got both',
      ],
    ],
    [
      'a stage listed twice in one DAG step',
      'yaml-dag-duplicate-stage',
      [
        'bodywork.yaml:5:8: DAG lists stage "stage_1_train" twice in step 1; a stage can run only once',
      ],
    ],
    [
      'an empty DAG',
      'yaml-dag-empty',
      [
        'bodywork.yaml:5:8: DAG must name at least one stage (expected stage names separated by "," within a step and ">>" between steps), got ""',
      ],
    ],
    [
      'a duplicate key at its position',
      'yaml-duplicate-key',
      [
        'bodywork.yaml:14:7: duplicate key retries; a key may appear only once in a mapping',
      ],
    ],
    [
      'an empty bodywork.yaml',
      'yaml-empty-file',
      [
        'bodywork.yaml: the file is empty; expected the sections version, pipeline, stages and logging',
      ],
    ],
    [
      'an executable_module_path that is not a Python file',
      'yaml-executable-not-python',
      [
        'bodywork.yaml:8:29: stages.stage_1_train.executable_module_path must be a .py (or .ipynb) file inside the project, got "pipeline/train.sh"',
      ],
    ],
    [
      'an executable_module_path that does not exist',
      'yaml-missing-executable',
      [
        'bodywork.yaml:8:29: stages.stage_1_train.executable_module_path must be a .py (or .ipynb) file inside the project, got "pipeline/training.py" (pipeline/training.py does not exist)',
      ],
    ],
    [
      'a missing stage key at the stage',
      'yaml-missing-key',
      [
        'bodywork.yaml:7:3: missing key stages.stage_1_train.cpu_request',
      ],
    ],
    [
      'a missing top-level section',
      'yaml-missing-section',
      [
        'bodywork.yaml: missing section logging',
      ],
    ],
    [
      'a stage with neither batch nor service',
      'yaml-neither-batch-nor-service',
      [
        'bodywork.yaml:7:3: stages.stage_1_train must have exactly one of batch or service, got neither',
      ],
    ],
    [
      'a bodywork.yaml that is a list',
      'yaml-not-a-mapping',
      [
        'bodywork.yaml:1:1: expected a mapping with the sections version, pipeline, stages and logging, got a list',
      ],
    ],
    [
      'every out-of-range number at its line and column',
      'yaml-numbers-out-of-range',
      [
        'bodywork.yaml:10:24: stages.stage_1_train.memory_request_mb must be a whole number from 1 to 9000000000000, got "0.5"',
        'bodywork.yaml:12:36: stages.stage_1_train.batch.max_completion_time_seconds must be a whole number from 0 to 2000000, got "-2"',
        'bodywork.yaml:13:16: stages.stage_1_train.batch.retries must be a whole number from 0 to 2147483647, got "-1"',
        'bodywork.yaml:16:18: stages.stage_2_serve.cpu_request must be a number from 0.001 to 1000000, got "-1"',
        'bodywork.yaml:20:17: stages.stage_2_serve.service.replicas must be a whole number from 1 to 2147483647, got "0"',
        'bodywork.yaml:21:13: stages.stage_2_serve.service.port must be a whole number from 1 to 65535, got "65536"',
      ],
    ],
    [
      'problems in the DAG, a stage and logging together',
      'yaml-problems-in-several-places',
      [
        'bodywork.yaml:5:8: DAG step 3 has an empty stage name (expected stage names separated by "," within a step and ">>" between steps), got "stage_1_train >> stage_2_serve >>"',
        'bodywork.yaml:21:13: stages.stage_2_serve.service.port must be a whole number from 1 to 65535, got "http"',
        'bodywork.yaml:24:14: logging.log_level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got "LOUD"',
      ],
    ],
    [
      'a run_on_failure stage that is a service',
      'yaml-run-on-failure-service',
      [
        'bodywork.yaml:6:19: pipeline.run_on_failure must name a batch stage, got "stage_2_serve" (a service stage)',
      ],
    ],
    [
      'a run_on_failure stage that does not exist, suggesting the nearest one',
      'yaml-run-on-failure-unknown',
      [
        'bodywork.yaml:6:19: pipeline.run_on_failure must name a batch stage defined in stages, got "stage_1_trian"; did you mean "stage_1_train"?',
      ],
    ],
    [
      'a schema 1.0 section name under version "1.1"',
      'yaml-section-of-other-version',
      [
        'bodywork.yaml:2:1: project is the section name of schema "1.0", but version is "1.1"; rename it to pipeline or change the version',
      ],
    ],
    [
      'two stage names that become the same Kubernetes name',
      'yaml-stage-names-clash',
      [
        'bodywork.yaml:14:3: stages "stage_1_train" and "stage-1-train" would both become the Kubernetes name "stage-1-train"; rename one of them',
      ],
    ],
    [
      'a YAML syntax error at its position',
      'yaml-syntax-error',
      [
        'bodywork.yaml:6:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
      ],
    ],
    [
      'values of the wrong YAML type at their position',
      'yaml-type-errors',
      [
        'bodywork.yaml:3:9: pipeline.name must be a string, got "42" (a number; quote it to make it a string)',
        'bodywork.yaml:9:18: stages.stage_1_train.cpu_request must be a number from 0.001 to 1000000, got "0.5" (a string; remove the quotes)',
        'bodywork.yaml:10:24: stages.stage_1_train.memory_request_mb must be a whole number from 1 to 9000000000000, got "lots"',
        'bodywork.yaml:13:16: stages.stage_1_train.batch.retries must be a whole number from 0 to 2147483647, got a list',
        'bodywork.yaml:16:20: stages.stage_2_serve.args[1] must be a string, got "5000" (a number; quote it to make it a string)',
        'bodywork.yaml:17:19: stages.stage_2_serve.requirements must be a list of strings, got "flask"',
        'bodywork.yaml:24:16: stages.stage_2_serve.service.ingress must be true or false, got "yes"',
      ],
    ],
    [
      'unknown keys as warnings with the nearest known key',
      'yaml-unknown-keys',
      [
        'bodywork.yaml:6:3: warning: unknown key colour in pipeline is ignored (known keys: name, docker_image, DAG, namespace, run_on_failure, usage_stats, secrets_group)',
        'bodywork.yaml:8:3: missing key stages.stage_1_train.cpu_request',
        'bodywork.yaml:10:5: warning: unknown key cpu_requests in stages.stage_1_train; did you mean cpu_request?',
      ],
    ],
    [
      'DAG stages missing from stages, suggesting the nearest one',
      'yaml-unknown-stage',
      [
        'bodywork.yaml:5:8: DAG names stage "stage_2_srve", which is not defined in stages; did you mean "stage_2_serve"?',
        'bodywork.yaml:5:8: DAG names stage "stage_3", which is not defined in stages (known stages: "stage_1_train", "stage_2_serve")',
      ],
    ],
    [
      'an unquoted version number, naming the supported versions',
      'yaml-unquoted-version',
      [
        'bodywork.yaml:1:10: version must be one of the supported schema versions "1.1" (with section pipeline) or "1.0" (with section project), got "1.1" (a number; quote it to make it a string)',
      ],
    ],
    [
      'an unsupported version, naming the supported ones',
      'yaml-unsupported-version',
      [
        'bodywork.yaml:1:10: version must be one of the supported schema versions "1.1" (with section pipeline) or "1.0" (with section project), got "2.0"',
      ],
    ],
    [
      'sections and stages that are not mappings, each at its position',
      'yaml-wrong-shapes',
      [
        'bodywork.yaml:2:11: pipeline must be a mapping, got "iris"',
        'bodywork.yaml:4:3: stages.stage_1_train must be a mapping, got nothing',
        'bodywork.yaml:5:18: stages.stage_2_serve must be a mapping, got "serve.py"',
        'bodywork.yaml:6:10: logging must be a mapping, got a list',
      ],
    ],
  ])('reports %s', async (_behaviour, name, expected) => {
    const result = await loadProject(fixture(name));

    expect(result.problems.map(formatProblem)).toEqual(expected);
    expect(result.spec).toBeUndefined();
  });

  it('reports a project directory that does not exist', async () => {
    const missing = fixture('no-such-project');

    expect(await rendered(missing)).toEqual([`.: project directory "${missing}" does not exist or is not a directory`]);
  });
});
