/**
 * A fake of the few GitHub REST endpoints the action calls (issue comments, deployments, deployment statuses), on
 * 127.0.0.1, recording every request and answering as GitHub does. The action reaches it through GITHUB_API_URL.
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
  let nextId = 1000;
  const base = `/repos/${repository}`;
  let url = '';

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  };
  const commentJson = (c: FakeComment) => ({ id: c.id, body: c.body, html_url: `https://github.com/${repository}/pull/${c.issue}#issuecomment-${c.id}`, user: { login: 'github-actions[bot]' } });

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const u = new URL(req.url ?? '/', 'http://x');
      calls.push({ method: req.method ?? '', path: u.pathname + u.search, ...(body ? { body } : {}), ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
      const path = u.pathname;
      let m: RegExpMatchArray | null;
      if ((m = path.match(new RegExp(`^${base}/issues/(\\d+)/comments$`)))) {
        const issue = Number(m[1]);
        if (req.method === 'GET') return send(res, 200, comments.filter((c) => c.issue === issue).map(commentJson));
        if (req.method === 'POST') {
          const c = { id: nextId++, issue, body: String(body?.body ?? '') };
          comments.push(c);
          return send(res, 201, commentJson(c));
        }
      }
      if ((m = path.match(new RegExp(`^${base}/issues/comments/(\\d+)$`))) && req.method === 'PATCH') {
        const c = comments.find((x) => x.id === Number(m![1]));
        if (!c) return send(res, 404, { message: 'Not Found' });
        c.body = String(body?.body ?? '');
        return send(res, 200, commentJson(c));
      }
      if (path === `${base}/deployments`) {
        if (req.method === 'POST') {
          const d: FakeDeployment = { id: nextId++, ref: String(body?.ref), environment: String(body?.environment ?? 'production'), transient_environment: body?.transient_environment === true, statuses: [] };
          deployments.push(d);
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
      send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    comments,
    deployments,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
