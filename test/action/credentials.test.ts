import { afterEach, describe, expect, it, vi } from 'vitest';
import { tmpdir } from 'node:os';
import { looksLikePath, maskKubeconfigText, parseSecrets, resolveKubeconfig } from '../../src/action/credentials.js';
import { captureStdout } from './support/capture-stdout.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the secrets input', () => {
  it('groups SECRET_NAME.KEY=value lines into Secrets and masks every value, short ones too', () => {
    const out = captureStdout();
    const secrets = parseSecrets('# credentials\naws-credentials.AWS_ACCESS_KEY_ID=AKIA123\n\naws-credentials.AWS_SECRET_ACCESS_KEY= a=b=c \ndb.v1.PASSWORD=x\n');
    expect(secrets).toEqual([
      { name: 'aws-credentials', data: { AWS_ACCESS_KEY_ID: 'AKIA123', AWS_SECRET_ACCESS_KEY: 'a=b=c' } },
      { name: 'db.v1', data: { PASSWORD: 'x' } },
    ]);
    expect(out.lines()).toEqual(['::add-mask::AKIA123', '::add-mask::a=b=c', '::add-mask::x']);
  });

  it.each([
    ['no-dot=value1234', 1],
    ['ok.KEY=fine\nUpper.KEY=value1234', 2],
    ['name.=value1234', 1],
    ['just text', 1],
  ])('rejects %j naming the line, never the value', (text, line) => {
    captureStdout();
    let message = '';
    try {
      parseSecrets(text);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(new RegExp(`^input secrets, line ${line}: expected SECRET_NAME.KEY=value`));
    expect(message).not.toContain('value1234');
  });
});

describe('kubeconfig masking before parsing', () => {
  it('masks token, password and key data values, and base64 content whole', () => {
    const out = captureStdout();
    const yaml = 'users:\n- name: u\n  user:\n    token: tok-abcdef\n    password: "pw-123456"\n    client-key-data: S0VZREFUQQ==\n';
    maskKubeconfigText(yaml);
    expect(out.lines()).toEqual(['::add-mask::tok-abcdef', '::add-mask::pw-123456', '::add-mask::S0VZREFUQQ==']);
    const b64 = Buffer.from(`apiVersion: v1\n${yaml}`).toString('base64');
    maskKubeconfigText(b64);
    expect(out.lines().slice(3)).toEqual([`::add-mask::${b64}`, '::add-mask::tok-abcdef', '::add-mask::pw-123456', '::add-mask::S0VZREFUQQ==']);
  });
});

describe('the kubeconfig input', () => {
  it.each(['~/.kube/config', '/home/runner/.kube/config', './kubeconfig.yaml', '$HOME/.kube/config', 'ci/kubeconfig', 'kubeconfig.json'])(
    'says that %j is a path where the content belongs, without printing it',
    async (path) => {
      captureStdout();
      expect(looksLikePath(path)).toBe(true);
      await expect(resolveKubeconfig(path, undefined, { RUNNER_TEMP: tmpdir() })).rejects.toThrow(
        /^the kubeconfig input looks like a file path, but it takes the kubeconfig's content .* set KUBECONFIG to its path/,
      );
    },
  );

  it.each([
    'apiVersion: v1\nkind: Config\n',
    Buffer.from('apiVersion: v1\nkind: Config\nclusters: []\n').toString('base64'),
    '{"apiVersion":"v1","kind":"Config"}',
  ])('reads YAML, JSON and base64 content as content: %j', (content) => {
    expect(looksLikePath(content)).toBe(false);
  });
});
