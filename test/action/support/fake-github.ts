/**
 * A fake of the few GitHub REST endpoints the action calls (the token's user, issue comments, deployments,
 * deployment statuses, environments, the repository and its pull requests), on 127.0.0.1, recording every request
 * and answering as GitHub does, errors in GitHub's shape (`{ message, documentation_url, status }`). The action
 * reaches it through GITHUB_API_URL.
 *
 * Identity as on GitHub: `GET /user` answers for a user's token (a PAT) and refuses an installation token such as
 * GITHUB_TOKEN with 403 "Resource not accessible by integration"; comments are written as the token's identity
 * (`github-actions[bot]` for GITHUB_TOKEN), and only their author may edit them. Deleting an environment needs
 * "Administration: write", which no GITHUB_TOKEN has: 403 "Resource not accessible by integration" for an
 * installation token unless its identity says `administration: true`; a user's token (a PAT) is allowed.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  path: string;
  body?: Record<string, unknown>;
  authorization?: string;
}

export interface FakeComment {
  id: number;
  issue: number;
  body: string;
  /** The author's login (default `github-actions[bot]`). */
  user?: string;
}

/** Who a token is: a user (its login) or an installation token, which writes as `<app>[bot]`. */
export type FakeIdentity = { user: string } | { installation: string; administration?: boolean };

export interface FakePull {
  state: 'open' | 'closed';
  merged?: boolean;
  title?: string;
}

export interface FakeDeployment {
  id: number;
  ref: string;
  environment: string;
  transient_environment?: boolean;
  statuses: { state: string; environment_url?: string; log_url?: string; description?: string }[];
}

export interface FakeGitHub {
  url: string;
  calls: RecordedCall[];
  comments: FakeComment[];
  deployments: FakeDeployment[];
  /** Environment names: created by a deployment to them, as GitHub does. */
  environments: Set<string>;
  /** Pull request number -> state; a number not here answers 404. */
  pulls: Map<number, FakePull>;
  /** Token (without `token `/`Bearer `) -> identity; unknown tokens are the GITHUB_TOKEN of `github-actions`. */
  identities: Map<string, FakeIdentity>;
  stop(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => resolve(data ? (JSON.parse(data) as Record<string, unknown>) : undefined));
  });
}

export async function startFakeGitHub(repository = 'acme/iris'): Promise<FakeGitHub> {
  const calls: RecordedCall[] = [];
  const comments: FakeComment[] = [];
  const deployments: FakeDeployment[] = [];
  const environments = new Set<string>();
  const pulls = new Map<number, FakePull>();
  let nextId = 1000;
  const base = `/repos/${repository}`;
  let url = '';

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  };
  const identities = new Map<string, FakeIdentity>();
  const identityOf = (req: IncomingMessage): FakeIdentity => identities.get((req.headers.authorization ?? '').replace(/^(token|bearer)\s+/i, '')) ?? { installation: 'github-actions' };
  const loginOf = (id: FakeIdentity) => ('user' in id ? id.user : `${id.installation}[bot]`);
  const commentJson = (c: FakeComment) => {
    const login = c.user ?? 'github-actions[bot]';
    return { id: c.id, body: c.body, html_url: `https://github.com/${repository}/pull/${c.issue}#issuecomment-${c.id}`, user: { login, type: login.endsWith('[bot]') ? 'Bot' : 'User' } };
  };

  // GitHub's error body; `status` is a string in its answers.
  const fail = (res: ServerResponse, status: 403 | 404, docs: string, message = status === 404 ? 'Not Found' : 'Resource not accessible by integration') =>
    send(res, status, { message, documentation_url: `https://docs.github.com/rest/${docs}`, status: String(status) });

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const u = new URL(req.url ?? '/', 'http://x');
      calls.push({ method: req.method ?? '', path: u.pathname + u.search, ...(body ? { body } : {}), ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
      const path = u.pathname;
      let m: RegExpMatchArray | null;
      if (path === '/user' && req.method === 'GET') {
        const id = identityOf(req);
        if ('installation' in id) return send(res, 403, { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest/users/users#get-the-authenticated-user' });
        return send(res, 200, { login: id.user, type: 'User' });
      }
      if ((m = path.match(new RegExp(`^${base}/issues/(\\d+)/comments$`)))) {
        const issue = Number(m[1]);
        if (req.method === 'GET') return send(res, 200, comments.filter((c) => c.issue === issue).map(commentJson));
        if (req.method === 'POST') {
          const c = { id: nextId++, issue, body: String(body?.body ?? ''), user: loginOf(identityOf(req)) };
          comments.push(c);
          return send(res, 201, commentJson(c));
        }
      }
      if ((m = path.match(new RegExp(`^${base}/issues/comments/(\\d+)$`))) && req.method === 'PATCH') {
        const c = comments.find((x) => x.id === Number(m![1]));
        if (!c) return send(res, 404, { message: 'Not Found' });
        if ((c.user ?? 'github-actions[bot]') !== loginOf(identityOf(req))) return send(res, 403, { message: 'Must have admin rights to Repository.' });
        c.body = String(body?.body ?? '');
        return send(res, 200, commentJson(c));
      }
      if (path === `${base}/deployments`) {
        if (req.method === 'POST') {
          const d: FakeDeployment = { id: nextId++, ref: String(body?.ref), environment: String(body?.environment ?? 'production'), transient_environment: body?.transient_environment === true, statuses: [] };
          deployments.push(d);
          environments.add(d.environment);
          return send(res, 201, { id: d.id, ref: d.ref, environment: d.environment, url: `${url}${base}/deployments/${d.id}` });
        }
        if (req.method === 'GET') {
          const env = u.searchParams.get('environment');
          return send(res, 200, deployments.filter((d) => env === null || d.environment === env).reverse().map((d) => ({ id: d.id, ref: d.ref, environment: d.environment })));
        }
      }
      if ((m = path.match(new RegExp(`^${base}/deployments/(\\d+)/statuses$`))) && req.method === 'POST') {
        const d = deployments.find((x) => x.id === Number(m![1]));
        if (!d) return send(res, 404, { message: 'Not Found' });
        const s = {
          state: String(body?.state),
          ...(body?.environment_url !== undefined ? { environment_url: String(body.environment_url) } : {}),
          ...(body?.log_url !== undefined ? { log_url: String(body.log_url) } : {}),
          ...(body?.description !== undefined ? { description: String(body.description) } : {}),
        };
        d.statuses.push(s);
        return send(res, 201, { id: nextId++, ...s });
      }
      if (path === base && req.method === 'GET') return send(res, 200, { full_name: repository, name: repository.split('/')[1], private: true });
      if ((m = path.match(new RegExp(`^${base}/pulls/(\\d+)$`))) && req.method === 'GET') {
        const n = Number(m[1]);
        const pr = pulls.get(n);
        if (!pr) return fail(res, 404, 'pulls/pulls#get-a-pull-request');
        return send(res, 200, { number: n, state: pr.state, merged: pr.merged === true, title: pr.title ?? `PR ${n}`, html_url: `https://github.com/${repository}/pull/${n}` });
      }
      if ((m = path.match(new RegExp(`^${base}/environments/([^/]+)$`))) && req.method === 'DELETE') {
        const id = identityOf(req);
        if ('installation' in id && !id.administration) return fail(res, 403, 'deployments/environments#delete-an-environment');
        const name = decodeURIComponent(m[1]);
        if (!environments.delete(name)) return fail(res, 404, 'deployments/environments#delete-an-environment');
        res.writeHead(204).end();
        return;
      }
      fail(res, 404, '');
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    comments,
    deployments,
    environments,
    pulls,
    identities,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
