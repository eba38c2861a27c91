/** The action's inputs → ActionInputs, in-process: what each input becomes, what is refused, and that credentials are masked first. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { inputLines, readInputs, type ActionInputs } from '../../src/action/inputs.js';
import { clearSecrets, redact } from '../../src/engine/index.js';
import { captureStdout } from './support/capture-stdout.js';

/** An input reader over `table`, counting reads per input (unset inputs read as '', as the runner passes them). */
function reader(table: Record<string, string>): { read: (name: string) => string; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  return {
    reads,
    read: (name) => {
      reads.set(name, (reads.get(name) ?? 0) + 1);
      return table[name] ?? '';
    },
  };
}

const read = (table: Record<string, string>): ActionInputs => readInputs(reader(table).read);

afterEach(() => {
  vi.restoreAllMocks();
  clearSecrets();
});

const DEFAULTS: ActionInputs = {
  command: 'deploy',
  projectDir: '.',
  timeoutMs: 30 * 60_000,
  lockTimeoutMs: 10 * 60_000,
  keepJobs: 1,
  prune: true,
  codeSource: 'bundle',
  runner: 'runner',
  preview: 'auto',
  comment: true,
  allowForks: false,
  dryRun: false,
  secrets: [],
};

describe('the action inputs', () => {
  it('without any input, is the defaults (the engine settings defaults)', () => {
    captureStdout();
    expect(read({})).toEqual(DEFAULTS);
  });

  it.each<[Record<string, string>, Partial<ActionInputs>]>([
    [{ command: 'plan' }, { command: 'plan' }],
    [{ 'project-dir': ' projects/iris ' }, { projectDir: 'projects/iris' }],
    [{ namespace: 'ml', context: 'prod' }, { namespace: 'ml', context: 'prod' }],
    [{ timeout: '1h30m', 'lock-timeout': '90', 'keep-jobs': '0' }, { timeoutMs: 90 * 60_000, lockTimeoutMs: 90_000, keepJobs: 0 }],
    [{ prune: 'no', comment: 'off', 'allow-forks': 'TRUE' }, { prune: false, comment: false, allowForks: true }],
    [{ image: 'python:3.12', 'ingress-class': 'traefik' }, { image: 'python:3.12', ingressClass: 'traefik' }],
    [{ stages: ' a, b ,,c ' }, { stages: ['a', 'b', 'c'] }],
    // Only commas is unset, as an empty input is.
    [{ stages: ' , ' }, {}],
    [{ 'image-pull-secrets': 'one,two\nthree\n' }, { imagePullSecrets: ['one', 'two', 'three'] }],
    [{ 'code-source': 'git' }, { codeSource: 'git' }],
    [{ runner: 'cluster', 'runner-image': 'node:24' }, { runner: 'cluster', runnerImage: 'node:24' }],
    [{ preview: 'false', 'public-url': 'https://{namespace}.example.com' }, { preview: 'false', publicUrl: 'https://{namespace}.example.com' }],
    [{ command: 'sweep-previews', 'dry-run': 'true' }, { command: 'sweep-previews', dryRun: true }],
    [{ 'github-token': ' ghs_token123 ' }, { githubToken: 'ghs_token123' }],
    [{ 'git-token': 'ghp_gittoken' }, { gitToken: 'ghp_gittoken' }],
    [{ secrets: 'db.PASSWORD=hunter22\ndb.USER=ml' }, { secrets: [{ name: 'db', data: { PASSWORD: 'hunter22', USER: 'ml' } }] }],
    [{ 'registry-server': 'ghcr.io', 'registry-username': 'me', 'registry-password': 'pa55word' }, { registry: { server: 'ghcr.io', username: 'me', password: 'pa55word' } }],
    [{ kubeconfig: 'apiVersion: v1\nkind: Config\n' }, { kubeconfig: 'apiVersion: v1\nkind: Config' }],
  ])('reads %j', (table, expected) => {
    captureStdout();
    expect(read(table)).toEqual({ ...DEFAULTS, ...expected });
  });

  it.each<[Record<string, string>, string]>([
    [{ timeout: 'soon' }, "input timeout: expected a duration such as 30m, 1h or 90s, at most 596h, got 'soon'"],
    [{ timeout: '1000h' }, "input timeout: expected a duration such as 30m, 1h or 90s, at most 596h, got '1000h'"],
    [{ 'lock-timeout': '0' }, "input lock-timeout: expected a duration such as 30m, 1h or 90s, at most 596h, got '0'"],
    [{ 'keep-jobs': '-1' }, "input keep-jobs: expected a whole number of 0 or more, got '-1'"],
    [{ command: 'destroy' }, "input command: expected one of deploy, plan, teardown, sweep-previews, status, cancel, got 'destroy'"],
    [{ preview: 'maybe' }, "input preview: expected one of auto, true, false, got 'maybe'"],
    [{ prune: 'sometimes' }, "input prune: expected true or false, got 'sometimes'"],
    [{ 'dry-run': 'true' }, 'input dry-run: only for command: sweep-previews (use command: plan to see what a deploy would do), got command: deploy'],
    [{ 'registry-server': 'ghcr.io', 'registry-password': 'pa55word' }, 'inputs registry-server, registry-username, registry-password: registry credentials need a username (for ghcr.io with the GitHub token: github.actor)'],
  ])('refuses %j', (table, message) => {
    captureStdout();
    expect(() => read(table)).toThrow(message);
  });

  it('masks every credential before reading any other input, and reads each input once (github-token too)', () => {
    const out = captureStdout();
    const table = {
      kubeconfig: 'users:\n- name: u\n  user:\n    token: kube-token-1\n',
      'github-token': 'ghs_github_token',
      secrets: 'db.PASSWORD=hunter22',
      'git-token': 'ghp_git_token',
      'registry-server': 'ghcr.io',
      'registry-username': 'me',
      'registry-password': 'registry-pw',
      timeout: 'soon',
    };
    const r = reader(table);
    // The bad timeout is read after the credentials: its error comes with all of them masked already.
    expect(() => readInputs(r.read)).toThrow(/input timeout/);
    const masks = out.lines().filter((l) => l.startsWith('::add-mask::'));
    for (const secret of ['kube-token-1', 'ghs_github_token', 'hunter22', 'ghp_git_token', 'registry-pw']) {
      expect(masks).toContain(`::add-mask::${secret}`);
      expect(redact(`x ${secret} y`)).not.toContain(secret);
    }
    expect([...r.reads.values()].every((n) => n === 1)).toBe(true);
    expect(r.reads.get('github-token')).toBe(1);
  });

  it('describes each resolved input for the debug log, the credentials only as given', () => {
    captureStdout();
    const inputs = read({ timeout: '5m', 'github-token': 'ghs_github_token', secrets: 'db.PASSWORD=hunter22', 'git-token': 'ghp_git_token', 'code-source': 'git', kubeconfig: 'apiVersion: v1\n', 'registry-server': 'ghcr.io', 'registry-username': 'me', 'registry-password': 'registry-pw' });
    const lines = inputLines(inputs);
    expect(lines).toContain('input timeoutMs: 300000');
    expect(lines).toContain('input codeSource: "git"');
    expect(lines).toContain('input secrets: db');
    expect(lines).toContain('input githubToken: given');
    expect(lines).toContain('input registry: given');
    expect(lines).toHaveLength(Object.keys(inputs).length);
    for (const secret of ['ghs_github_token', 'hunter22', 'ghp_git_token', 'registry-pw', 'apiVersion']) expect(lines.join('\n')).not.toContain(secret);
  });
});
