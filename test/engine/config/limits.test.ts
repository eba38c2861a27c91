/**
 * Values that look fine but cannot be deployed (beyond the API's int32/int64 fields or a timer's range, a CPU request
 * below 1m) and files that must not be read or quoted: each a `path:line` problem before anything is written.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { loadProject } from '../../../src/engine/config/load.js';
import { formatProblem } from '../../../src/engine/config/problems.js';
import { quoteValue } from '../../../src/engine/config/quote.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function project(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'bodywork-limits-'));
  dirs.push(root);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

const INI = '[default]\nPROJECT_NAME=p\nDOCKER_IMAGE=bodyworkml/bodywork-core:latest\n[workflow]\nDAG=train >> serve\n[logging]\nLOG_LEVEL=INFO\n';
function batch(retries: string, seconds: string, cpu = '0.5') {
  return `[default]\nSTAGE_TYPE=batch\nEXECUTABLE_SCRIPT=t.py\nCPU_REQUEST=${cpu}\nMEMORY_REQUEST_MB=100\n[batch]\nMAX_COMPLETION_TIME_SECONDS=${seconds}\nRETRIES=${retries}\n`;
}
const SERVICE = (replicas: string) =>
  `[default]\nSTAGE_TYPE=service\nEXECUTABLE_SCRIPT=s.py\nCPU_REQUEST=0.5\nMEMORY_REQUEST_MB=100\n[service]\nMAX_STARTUP_TIME_SECONDS=30\nREPLICAS=${replicas}\nPORT=5000\n`;

async function errors(root: string): Promise<string[]> {
  return (await loadProject(root)).problems.filter((p) => p.severity === 'error').map(formatProblem);
}

it('refuses numbers beyond the API fields and timers, and a CPU request below 1m, at their lines', async () => {
  const root = await project({
    'bodywork.ini': INI,
    'train/config.ini': batch('99999999999', '100000000000000000000', '0.0001'),
    'train/t.py': '',
    'serve/config.ini': SERVICE('99999999999'),
    'serve/s.py': '',
  });
  expect(await errors(root)).toEqual([
    'serve/config.ini:8: REPLICAS must be a whole number from 1 to 2147483647, got "99999999999"',
    'train/config.ini:4: CPU_REQUEST must be a number from 0.001 to 1000000, got "0.0001"',
    'train/config.ini:7: MAX_COMPLETION_TIME_SECONDS must be a whole number from 1 to 2000000, got "100000000000000000000"',
    'train/config.ini:8: RETRIES must be a whole number from 0 to 2147483647, got "99999999999"',
  ]);
});

it('refuses 1e20 seconds in YAML, where it is a number', async () => {
  const root = await project({
    'bodywork.yaml':
      'version: "1.1"\npipeline:\n  name: p\n  docker_image: bodyworkml/bodywork-core:latest\n  DAG: train\nstages:\n  train:\n    executable_module_path: t.py\n    cpu_request: 0.5\n    memory_request_mb: 100\n    batch:\n      max_completion_time_seconds: 1e20\n      retries: 2\nlogging:\n  log_level: INFO\n',
    't.py': '',
  });
  expect(await errors(root)).toEqual(['bodywork.yaml:12:36: stages.train.batch.max_completion_time_seconds must be a whole number from 0 to 2000000, got "1e20"']);
});

it('shortens and escapes a megabyte value in its message', async () => {
  const root = await project({ 'bodywork.ini': INI.replace('DOCKER_IMAGE=bodyworkml/bodywork-core:latest', `DOCKER_IMAGE="${'A'.repeat(1024 * 1024)}\u001b[2J"`) });
  const messages = await errors(root);
  const image = messages.find((m) => m.includes('DOCKER_IMAGE'));
  expect(image).toContain(`got "${'A'.repeat(60)}…" (1048580 characters)`);
  expect(messages.every((m) => m.length < 1000)).toBe(true);
  expect(quoteValue('a\nb\u001b\u202e')).toBe('"a\\nb\\u001b\\u202e"');
});

it('reads no config file through a link out of the project, and quotes no line of a key file', async () => {
  const outside = await project({ id_rsa: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n' });
  const root = await project({ 'train/t.py': '', 'serve/config.ini': SERVICE('2'), 'serve/s.py': '' });
  await symlink(join(outside, 'id_rsa'), join(root, 'bodywork.ini'));
  const messages = await errors(root);
  expect(messages).toEqual([expect.stringMatching(/^bodywork\.ini: bodywork\.ini links to .*id_rsa, outside the project directory; refusing to read/)]);

  // Inside the project, a key file named like a config is not quoted line by line.
  const inside = await project({ 'bodywork.ini': `${INI}\n`, 'train/config.ini': await import('node:fs/promises').then((fs) => fs.readFile(join(outside, 'id_rsa'), 'utf8')), 'train/t.py': '', 'serve/config.ini': SERVICE('2'), 'serve/s.py': '' });
  const quoted = (await errors(inside)).filter((m) => m.startsWith('train/config.ini'));
  expect(quoted.join('\n')).not.toContain('b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ');
});

it('refuses a symlinked stage directory at the DAG line, and a non-UTF-8 config file without quoting it', async () => {
  const root = await project({ 'bodywork.ini': INI, 'real/config.ini': batch('1', '30'), 'real/t.py': '', 'serve/config.ini': SERVICE('2'), 'serve/s.py': '' });
  await symlink(join(root, 'real'), join(root, 'train'));
  expect(await errors(root)).toEqual([
    'bodywork.ini:5: stage directory train/ is a symbolic link; a stage directory must be a real directory of the project (the code bundle does not follow links)',
  ]);
  const binary = await project({ 'bodywork.ini': INI, 'train/t.py': '', 'serve/s.py': '', 'serve/config.ini': SERVICE('2') });
  await writeFile(join(binary, 'train/config.ini'), Buffer.from([0x5b, 0xff, 0xfe, 0x00, 0x5d]));
  expect(await errors(binary)).toEqual(['train/config.ini: train/config.ini is not UTF-8 text; expected a text file']);
});
