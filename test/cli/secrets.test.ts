/** Secrets from the CLI: `secret create|list|delete`, `deploy --secret` / `--secrets-file`, and `deploy --sandbox` with a `[secrets]` project. */
import type { V1Secret } from '@kubernetes/client-node';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchProject, useDeploySandbox } from '../engine/deploy/helpers.js';
import { clusterTarget } from '../support/cluster.js';
import { cli, spawnCli } from './support/run-cli.js';

const s = useDeploySandbox();

const project = s.project;

const decoded = (secret: V1Secret | undefined) => Object.fromEntries(Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

/** The tutorial's stage 1 of early 2021 (bodywork-behaviour.md §6.1): AWS credentials from the Secret aws-credentials. */
function iniWithSecrets(name: string): Record<string, string> {
  return {
    'bodywork.ini': `[default]\nPROJECT_NAME=${name}\nDOCKER_IMAGE=bodyworkml/bodywork-core:latest\n\n[workflow]\nDAG=stage-1-train-model\n\n[logging]\nLOG_LEVEL=INFO\n`,
    'stage-1-train-model/config.ini':
      '[default]\nSTAGE_TYPE=batch\nEXECUTABLE_SCRIPT=train.py\nCPU_REQUEST=0.1\nMEMORY_REQUEST_MB=50\n\n[batch]\nMAX_COMPLETION_TIME_SECONDS=60\nRETRIES=0\n\n' +
      '[secrets]\nAWS_ACCESS_KEY_ID=aws-credentials\nAWS_SECRET_ACCESS_KEY=aws-credentials\n',
    'stage-1-train-model/train.py': 'import os\nprint("key id", os.environ["AWS_ACCESS_KEY_ID"], "secret", os.environ["AWS_SECRET_ACCESS_KEY"], flush=True)\n',
    'stage-1-train-model/requirements.txt': '',
  };
}

describe('bodywork-deploy secret', () => {
  it('creates, lists (keys only), replaces and deletes a Secret in an existing namespace', async () => {
    await s.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'secrets-ns' } });
    const created = await cli('secret', 'create', 'aws-credentials', 'AWS_ACCESS_KEY_ID=AKIA-first-value', '--data', 'AWS_SECRET_ACCESS_KEY=s3cr3t=with=equals', '-n', 'secrets-ns', '--kubeconfig', s.kubeconfigFile);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toBe('secret=aws-credentials created in namespace=secrets-ns (keys: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)\n');
    expect(created.stdout + created.stderr).not.toMatch(/AKIA-first-value|s3cr3t/);
    const secret = await s.client.find<V1Secret>('Secret', 'secrets-ns', 'aws-credentials');
    expect(decoded(secret)).toEqual({ AWS_ACCESS_KEY_ID: 'AKIA-first-value', AWS_SECRET_ACCESS_KEY: 's3cr3t=with=equals' });
    expect(secret?.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('bodywork-deploy');

    const listed = await cli('secret', 'list', '-n', 'secrets-ns', '--kubeconfig', s.kubeconfigFile);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^NAME\s+KEYS\s+CREATED BY\naws-credentials\s+AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY\s+bodywork-deploy\n$/);

    // Created again with one key: the Secret holds exactly the keys given.
    const replaced = await cli('secret', 'create', 'aws-credentials', 'AWS_ACCESS_KEY_ID=AKIA-second', '-n', 'secrets-ns', '--kubeconfig', s.kubeconfigFile);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(decoded(await s.client.find<V1Secret>('Secret', 'secrets-ns', 'aws-credentials'))).toEqual({ AWS_ACCESS_KEY_ID: 'AKIA-second' });

    const deleted = await cli('secret', 'delete', 'aws-credentials', '-n', 'secrets-ns', '--kubeconfig', s.kubeconfigFile);
    expect(deleted).toMatchObject({ code: 0, stdout: 'secret=aws-credentials deleted from namespace=secrets-ns\n' });
    expect(await s.client.exists('Secret', 'secrets-ns', 'aws-credentials')).toBe(false);
    const again = await cli('secret', 'delete', 'aws-credentials', '-n', 'secrets-ns', '--kubeconfig', s.kubeconfigFile);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('secret=aws-credentials could not be found in namespace=secrets-ns');
  });

  it('refuses bad pairs and names without printing a value, and a namespace that does not exist', async () => {
    const badKey = await cli('secret', 'create', 'db', 'PASS WORD=hunter2-value', '-n', 'secrets-ns', '--kubeconfig', s.kubeconfigFile);
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toContain("error: pair #1: expected KEY=value with KEY letters, digits, '-', '_' or '.'");
    expect(badKey.stderr).not.toContain('hunter2');
    const badName = await cli('secret', 'create', 'DB_Creds', 'PASSWORD=hunter2-value', '-n', 'secrets-ns', '--kubeconfig', s.kubeconfigFile);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('the secret name must be a Kubernetes Secret name');
    expect(badName.stderr).not.toContain('hunter2');
    const noNamespace = await cli('secret', 'create', 'db', 'PASSWORD=x', '-n', 'no-such-ns', '--kubeconfig', s.kubeconfigFile);
    expect(noNamespace.code).toBe(1);
    expect(noNamespace.stderr).toContain('namespace=no-such-ns could not be found on the cluster; deploy the project once with its secrets (deploy --secret');
    expect(await s.client.exists('Namespace', undefined, 'no-such-ns')).toBe(false);
  });
});

describe('bodywork-deploy deploy with secrets', () => {
  it('applies --secrets-file and --secret values before the stages start and prints them only as ***', async () => {
    const dir = await project(iniWithSecrets('cli-secrets'));
    const file = join(dir, 'secrets.env');
    await writeFile(file, '# the training credentials\naws-credentials.AWS_ACCESS_KEY_ID = AKIAFROMFILE\n', { mode: 0o600 });
    const r = await cli('deploy', dir, '--kubeconfig', s.kubeconfigFile, '--secrets-file', file, '--secret', 'aws-credentials.AWS_SECRET_ACCESS_KEY=wJalrFLAG');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('applied secret=aws-credentials (keys: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) in namespace=cli-secrets');
    expect(r.stderr).toContain('[stage-1-train-model] key id *** secret ***\n');
    expect(r.stdout + r.stderr).not.toMatch(/AKIAFROMFILE|wJalrFLAG/);
    expect(decoded(await s.client.find<V1Secret>('Secret', 'cli-secrets', 'aws-credentials'))).toEqual({ AWS_ACCESS_KEY_ID: 'AKIAFROMFILE', AWS_SECRET_ACCESS_KEY: 'wJalrFLAG' });
  });

  it('says how to give the values when a cluster lacks a Secret the stages read', async () => {
    const dir = await project(iniWithSecrets('cli-secrets-missing'));
    const r = await cli('deploy', dir, '--kubeconfig', s.kubeconfigFile);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('secret "aws-credentials" (for key "AWS_ACCESS_KEY_ID") does not exist in namespace "cli-secrets-missing"');
    expect(r.stderr).toContain(
      'give the values with --secret NAME.KEY=VALUE or --secrets-file FILE, or create the Secret first: bodywork-deploy secret create NAME KEY=VALUE -n cli-secrets-missing\n',
    );
  });

  it('refuses a key given twice, naming both places, before touching the cluster', async () => {
    const dir = await project(batchProject('cli-secrets-twice', 'one', { one: { script: 'print(1)\n' } }));
    const file = join(dir, 'secrets.env');
    await writeFile(file, 'db.PASSWORD=first-value\n');
    const r = await cli('deploy', dir, '--kubeconfig', s.kubeconfigFile, '--secrets-file', file, '--secret', 'db.PASSWORD=second-value');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: --secret #1: db.PASSWORD is already set (--secrets-file ${file}, line 1); give each key once`);
    expect(r.stderr).not.toMatch(/first-value|second-value/);
    expect(await s.client.exists('Namespace', undefined, 'cli-secrets-twice')).toBe(false);
  });

});

// `deploy --sandbox` starts a sandbox of its own whatever this file's cluster is: run once, in the embedded project.
describe.skipIf(clusterTarget() === 'upstream')('bodywork-deploy deploy --sandbox with secrets', () => {
  it('with --sandbox, says which --secret flags a [secrets] project needs before starting anything', async () => {
    const dir = await project(iniWithSecrets('sandbox-secrets'));
    const r = await cli('deploy', dir, '--sandbox', '--secret', 'aws-credentials.AWS_ACCESS_KEY_ID=AKIA1');
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain('sandbox running');
    expect(r.stderr).toContain(
      `${dir}/stage-1-train-model/config.ini:13: stage "stage-1-train-model" reads key AWS_SECRET_ACCESS_KEY of secret aws-credentials, which the sandbox does not have; add --secret aws-credentials.AWS_SECRET_ACCESS_KEY=...\n`,
    );
    expect(r.stderr).toMatch(/error: the sandbox has none of the project's Secrets; add --secret aws-credentials\.AWS_SECRET_ACCESS_KEY=\.\.\. \(or put NAME\.KEY=VALUE lines in a --secrets-file\)\n$/);
  });

  it('with --sandbox, fills a Secret of object-store keys from the sandbox\'s S3 store, and stages hand a file over through it', async () => {
    // Two stages in two pods: the writer's /tmp is its own, so the file can only travel through the bucket.
    const secrets = '[secrets]\nAWS_ACCESS_KEY_ID=store\nAWS_SECRET_ACCESS_KEY=store\nAWS_ENDPOINT_URL=store\nS3_BUCKET=store\n';
    const s3 = "import boto3, os\ns3 = boto3.client('s3', endpoint_url=os.environ['AWS_ENDPOINT_URL'], region_name='us-east-1')\nbucket = os.environ['S3_BUCKET']\n";
    const stage = (script: string) =>
      `[default]\nSTAGE_TYPE=batch\nEXECUTABLE_SCRIPT=${script}\nCPU_REQUEST=0.1\nMEMORY_REQUEST_MB=50\n\n[batch]\nMAX_COMPLETION_TIME_SECONDS=60\nRETRIES=0\n\n${secrets}`;
    const dir = await project({
      'bodywork.ini': '[default]\nPROJECT_NAME=store-handoff\nDOCKER_IMAGE=bodyworkml/bodywork-core:latest\n\n[workflow]\nDAG=write >> read\n\n[logging]\nLOG_LEVEL=INFO\n',
      'write/config.ini': stage('write.py'),
      'write/write.py': `${s3}open('/tmp/handoff.txt', 'w').write('model v1')\ns3.upload_file('/tmp/handoff.txt', bucket, 'handoff.txt')\nprint('uploaded', flush=True)\n`,
      'write/requirements.txt': '',
      'read/config.ini': stage('read.py'),
      'read/read.py': `${s3}print('local copy:', os.path.exists('/tmp/handoff.txt'))\nprint('from the store:', s3.get_object(Bucket=bucket, Key='handoff.txt')['Body'].read().decode(), flush=True)\n`,
      'read/requirements.txt': '',
    });
    const run = spawnCli('deploy', dir, '--sandbox');
    await run.waitFor(/the sandbox keeps serving; stop it with Ctrl-C\n/);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    const { stdout, stderr } = run.output();
    expect(stderr).toContain("starting the sandbox's object store for Secret store");
    expect(stderr).toMatch(/object store: http:\/\/127\.0\.0\.1:\d+ from this machine, \S+ from pods, bucket bodywork-models/);
    expect(stdout).toMatch(/^read\s+batch\s+succeeded\s+1\s+/m);
    expect(stderr).toContain('[read] local copy: False\n');
    expect(stderr).toContain('[read] from the store: model v1\n');
  }, 600_000);

  it('with --sandbox and the flags it asked for, deploys the [secrets] project', async () => {
    const dir = await project(iniWithSecrets('sandbox-secrets-ok'));
    const run = spawnCli('deploy', dir, '--sandbox', '--secret', 'aws-credentials.AWS_ACCESS_KEY_ID=AKIA1', '--secret', 'aws-credentials.AWS_SECRET_ACCESS_KEY=wJalr2');
    await run.waitFor(/the sandbox keeps serving; stop it with Ctrl-C\n/);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    const { stdout, stderr } = run.output();
    expect(stdout).toMatch(/^stage-1-train-model\s+batch\s+succeeded\s+1\s+/m);
    expect(stderr).toContain('[stage-1-train-model] key id *** secret ***\n');
    expect(stdout + stderr).not.toMatch(/AKIA1|wJalr2/);
  });
});
