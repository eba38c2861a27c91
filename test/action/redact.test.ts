/**
 * Secrets are replaced with *** before escaping, in the job summary, the PR comment and the deployment statuses,
 * and the sticky comment is only ever one the token's identity wrote. GitHubPreview runs against the fake API.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { maskValue } from '../../src/action/credentials.js';
import { renderDeploySummary, renderPreviewComment } from '../../src/action/deploy-summary.js';
import { escapeHtml } from '../../src/action/markdown.js';
import { clearSecrets, redact } from '../../src/action/redact.js';
import type { DeployResult } from '../../src/engine/deploy/types.js';
import type { DeployPlan } from '../../src/engine/plan/index.js';
import { startFakeGitHub, type FakeGitHub } from './support/fake-github.js';

/** Every character the summary escapes, and a multi-line one. */
const SPECIAL = 'pw_#1*<b>&x|y`~[z]';
const MULTI = 'key-line-one-AAAA\nkey-line-two-BBBB';

const plan = { project: 'p', namespace: 'ns', image: 'img:1', labels: {}, setup: [], steps: [{ index: 1, stages: [{ stage: 'a', type: 'batch' }] }] } as unknown as DeployPlan;
const result: DeployResult = {
  project: 'p',
  namespace: 'ns',
  status: 'failure',
  startedAt: '2026-11-24T00:00:00Z',
  durationMs: 1000,
  stages: [{ stage: 'a', type: 'batch', step: 1, status: 'failed', attempts: 1, reason: `exit code 1: bad password ${SPECIAL}`, logTail: ['[a] connecting with', `[a] ${SPECIAL}`, ...MULTI.split('\n').map((l) => `[a] ${l}`)] }],
};

function quiet(): void {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
}

afterEach(() => {
  vi.restoreAllMocks();
  clearSecrets();
});

describe('redaction', () => {
  it('replaces the secret, and each line of a multi-line one, before escaping in the summary and the comment', () => {
    const clear = [renderDeploySummary(plan, result, { workspace: '.' }), renderPreviewComment(plan, result, { workspace: '.' })];
    // Without redaction the escaped form is there, which the runner's literal masking would not match.
    expect(clear[0]).toContain(escapeHtml(SPECIAL));
    quiet();
    maskValue(SPECIAL);
    maskValue(MULTI);
    for (const text of [renderDeploySummary(plan, result, { workspace: '.' }), renderPreviewComment(plan, result, { workspace: '.' })]) {
      expect(text).not.toContain(SPECIAL);
      expect(text).not.toContain('pw&#95;&#35;1&#42;&lt;b&gt;&amp;x&#124;y');
      expect(text).not.toMatch(/line-one-AAAA|line-two-BBBB/);
      expect(text).toContain('bad password &#42;&#42;&#42;');
    }
    expect(redact(`a ${MULTI} b`)).toBe('a *** b');
  });
});

describe('GitHubPreview', () => {
  let gh: FakeGitHub;
  let GitHubPreview: typeof import('../../src/action/github.js').GitHubPreview;
  beforeAll(async () => {
    gh = await startFakeGitHub();
    // @actions/github reads the API URL when it is first imported.
    process.env.GITHUB_API_URL = gh.url;
    ({ GitHubPreview } = await import('../../src/action/github.js'));
  });
  afterAll(async () => {
    await gh?.stop();
    delete process.env.GITHUB_API_URL;
  });

  it('posts redacted deployment texts', async () => {
    quiet();
    maskValue(SPECIAL);
    const preview = new GitHubPreview('ghs_installation', 'acme/iris', 'iris-pr-1');
    const id = await preview.createDeployment('a'.repeat(40), `preview of ${SPECIAL}`);
    expect(id).toBeDefined();
    await preview.setStatus(id!, 'failure', { description: `stage 'a' failed: ${SPECIAL}`, environmentUrl: `https://x.example.com/?p=${SPECIAL}` });
    const posted = JSON.stringify(gh.calls.map((c) => c.body ?? {}));
    expect(posted).not.toContain('pw_#1');
    expect(gh.deployments.at(-1)?.statuses.at(-1)?.description).toBe("stage 'a' failed: ***");
  });

  it('edits only a comment the token\'s identity wrote (GITHUB_TOKEN: github-actions[bot]; a PAT: GET /user)', async () => {
    quiet();
    const marker = '<!-- bodywork-deploy:iris-pr-2 -->';
    gh.comments.push({ id: 1, issue: 2, body: `${marker}\nplanted by someone else`, user: 'mallory' });
    const bot = new GitHubPreview('ghs_installation', 'acme/iris', 'iris-pr-2');
    await bot.upsertComment(2, 'first');
    expect(gh.comments.find((c) => c.id === 1)?.body).toContain('planted by someone else');
    const ours = gh.comments.filter((c) => c.issue === 2 && c.user === 'github-actions[bot]');
    expect(ours.map((c) => c.body)).toEqual([`${marker}\nfirst`]);
    await bot.upsertComment(2, 'second');
    expect(gh.comments.filter((c) => c.issue === 2).map((c) => [c.user, c.body])).toEqual([
      ['mallory', `${marker}\nplanted by someone else`],
      ['github-actions[bot]', `${marker}\nsecond`],
    ]);

    // A user's token: its comments are found by GET /user's login; the bot's are not its own.
    gh.identities.set('ghp_user', { user: 'alice' });
    const alice = new GitHubPreview('ghp_user', 'acme/iris', 'iris-pr-2');
    await alice.upsertComment(2, 'by alice');
    await alice.upsertComment(2, 'by alice again');
    expect(gh.comments.filter((c) => c.issue === 2).map((c) => [c.user, c.body])).toEqual([
      ['mallory', `${marker}\nplanted by someone else`],
      ['github-actions[bot]', `${marker}\nsecond`],
      ['alice', `${marker}\nby alice again`],
    ]);
    expect(gh.calls.filter((c) => c.method === 'PATCH' && c.path.endsWith('/issues/comments/1'))).toEqual([]);
  });
});
