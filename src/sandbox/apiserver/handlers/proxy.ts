/** services/proxy and pods/proxy: HTTP to a ready endpoint of a Service port, or to a pod's port. */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { connectVia } from '../../network/dial.js';
import { serviceUnavailable } from '../../machinery/errors.js';
import { storedObject, type HandlerContext } from './context.js';
import { sendStatus } from './responses.js';
import type { Route } from './route.js';

export async function proxy(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): Promise<void> {
  const r = route.resource;
  // `name`, `name:port` (port name or number); a leading `http:`/`https:` scheme is accepted and ignored.
  const parts = route.name!.split(':').filter((x, i, a) => !(i === 0 && a.length === 3 && (x === 'http' || x === 'https')));
  const name = parts[0];
  const portSpec: string | undefined = parts[1];
  let target: { host: string; port: number };
  if (r.resource === 'services') {
    // As kube-apiserver's service ResourceLocation: a port number names the Service port with that number; then an
    // endpoint port of exactly that name (empty when the path gives none) is looked for, so a Service whose only
    // port is named answers 503 to `services/<svc>/proxy`.
    let portName = portSpec ?? '';
    if (/^\d+$/.test(portName)) {
      const svc = storedObject(ctx, 'services', route.namespace, name);
      const sp = ((svc.spec?.ports ?? []) as any[]).find((p) => String(p.port) === portName);
      if (!sp) throw serviceUnavailable(`no service port ${portName} found for service "${name}"`);
      portName = sp.name ?? '';
    }
    const ep = ctx.store.peek('endpoints', route.namespace, name);
    let found: { host: string; port: number } | undefined;
    for (const subset of ep?.subsets ?? []) {
      const port = (subset.ports ?? []).find((p: any) => (p.name ?? '') === portName);
      const addrs: any[] = subset.addresses ?? [];
      if (port && addrs.length) {
        found = { host: addrs[Math.floor(Math.random() * addrs.length)].ip, port: port.port };
        break;
      }
    }
    if (!found) throw serviceUnavailable(`no endpoints available for service "${name}"`);
    target = found;
  } else {
    const pod = storedObject(ctx, 'pods', route.namespace, name);
    const ip = pod.status?.podIP;
    const ports = (pod.spec?.containers ?? []).flatMap((c: any) => c.ports ?? []);
    const p = portSpec === undefined ? ports[0]?.containerPort : (ports.find((x: any) => x.name === portSpec)?.containerPort ?? Number(portSpec));
    if (!ip || !p) throw serviceUnavailable(`pod ${name} has no IP or port to proxy to`);
    target = { host: ip, port: Number(p) };
  }
  const qs = q.toString();
  const headers = { ...req.headers };
  delete headers.host;
  delete headers.authorization;
  await new Promise<void>((resolve) => {
    const via = ctx.dial ? { createConnection: connectVia(ctx.dial, target.host, target.port) } : {};
    const up = http.request({ host: target.host, port: target.port, method: req.method, path: (route.rest || '/') + (qs ? `?${qs}` : ''), headers, ...via }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
      ur.on('end', resolve);
      ur.on('error', () => resolve());
    });
    up.on('error', (e) => {
      sendStatus(res, serviceUnavailable(`error trying to reach service: ${e.message}`));
      resolve();
    });
    req.pipe(up);
  });
}
