/**
 * Hand-built ProjectSpecs of the Bodywork example projects (bodywork-behaviour.md §6), as the loader
 * produces them: the tutorial's INI pipeline and the YAML test project.
 */
import type { ProjectSpec, StageSpec } from '../../../src/engine/config/spec.js';

type StageInput = Omit<StageSpec, 'args' | 'requirements' | 'secrets' | 'source'> & Partial<Pick<StageSpec, 'args' | 'requirements' | 'secrets' | 'source'>>;

function stage(s: StageInput): StageSpec {
  return { args: [], requirements: [], secrets: [], source: { file: `${s.name}/config.ini`, line: 1 }, ...s };
}

/** The tutorial's project (bodywork-ml-pipeline-project, INI era, mlp@9d65146). */
export function irisPipelineSpec(root = '/projects/iris-pipeline'): ProjectSpec {
  return {
    format: 'ini',
    root,
    configFile: 'bodywork.ini',
    name: 'bodywork-ml-pipeline-project',
    image: 'bodyworkml/bodywork-core:latest',
    dag: [['stage-1-train-model'], ['stage-2-deploy-scoring-service']],
    dagSource: { file: 'bodywork.ini', line: 6 },
    logLevel: 'INFO',
    stages: {
      'stage-1-train-model': stage({
        name: 'stage-1-train-model',
        type: 'batch',
        executable: 'stage-1-train-model/train_model.py',
        cpuRequest: 0.5,
        memoryRequestMb: 100,
        requirements: ['boto3==1.16.15', 'joblib==0.17.0', 'pandas==1.1.4', 'scikit-learn==0.23.2'],
        requirementsFile: 'stage-1-train-model/requirements.txt',
        batch: { maxCompletionTimeSeconds: 30, retries: 2 },
      }),
      'stage-2-deploy-scoring-service': stage({
        name: 'stage-2-deploy-scoring-service',
        type: 'service',
        executable: 'stage-2-deploy-scoring-service/serve_model.py',
        cpuRequest: 0.25,
        memoryRequestMb: 100,
        requirements: ['Flask==1.1.2', 'joblib==0.17.0', 'numpy==1.19.4', 'scikit-learn==0.23.2'],
        requirementsFile: 'stage-2-deploy-scoring-service/requirements.txt',
        service: { maxStartupTimeSeconds: 30, replicas: 2, port: 5000, ingress: true },
      }),
    },
  };
}

/** bodywork-test-project (YAML schema 1.1, tp@837786c): parallel stages, args, secrets, a service without ingress. */
export function yamlTestProjectSpec(root = '/projects/yaml-pipeline'): ProjectSpec {
  const batch = { maxCompletionTimeSeconds: 30, retries: 2 };
  const yamlSource = (line: number) => ({ file: 'bodywork.yaml', line });
  return {
    format: 'yaml',
    schemaVersion: '1.1',
    root,
    configFile: 'bodywork.yaml',
    name: 'bodywork-test-project',
    image: 'bodyworkml/bodywork-core:latest',
    dag: [['stage_1'], ['stage_2'], ['stage_3', 'stage_4'], ['stage_5']],
    dagSource: yamlSource(5),
    logLevel: 'INFO',
    stages: {
      stage_1: stage({ name: 'stage_1', type: 'batch', executable: 'stage_one/main.py', args: ['Hello', 'World'], cpuRequest: 0.1, memoryRequestMb: 100, batch, source: yamlSource(9) }),
      stage_2: stage({ name: 'stage_2', type: 'batch', executable: 'stage_two/main.py', cpuRequest: 0.1, memoryRequestMb: 100, batch, requirements: ['requests==2.24.0'], source: yamlSource(17) }),
      stage_3: stage({
        name: 'stage_3',
        type: 'service',
        executable: 'stage_three/main.py',
        cpuRequest: 0.1,
        memoryRequestMb: 100,
        requirements: ['flask==2.1.2'],
        service: { maxStartupTimeSeconds: 60, replicas: 2, port: 5000, ingress: true },
        source: yamlSource(26),
      }),
      stage_4: stage({
        name: 'stage_4',
        type: 'service',
        executable: 'stage_four/main.py',
        cpuRequest: 0.1,
        memoryRequestMb: 100,
        requirements: ['flask==2.1.2'],
        secrets: [
          { env: 'USERNAME', secret: 'bodywork-test-project-credentials', key: 'USERNAME', source: yamlSource(45) },
          { env: 'PASSWORD', secret: 'bodywork-test-project-credentials', key: 'PASSWORD', source: yamlSource(46) },
        ],
        service: { maxStartupTimeSeconds: 60, replicas: 1, port: 5000, ingress: false },
        source: yamlSource(36),
      }),
      stage_5: stage({ name: 'stage_5', type: 'batch', executable: 'stage_five/main.py', cpuRequest: 0.1, memoryRequestMb: 100, batch, requirements: ['requests==2.24.0'], source: yamlSource(49) }),
    },
  };
}
