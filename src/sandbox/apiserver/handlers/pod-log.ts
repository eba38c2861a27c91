/** pods/log (K pkg/registry/core/pod/rest/log.go): from an in-process log source, or proxied to the pod's kubelet. */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../types.js';
import { logOptionsFromQuery, streamLog } from '../../machinery/pod-log.js';
import { StatusError, badRequest, internalError } from '../../machinery/errors.js';
import { storedObject, type HandlerContext } from './context.js';
import { sendStatus } from './responses.js';
import type { Route } from './route.js';

export function podLog(ctx: HandlerContext, _req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): void {
  const pod = storedObject(ctx, 'pods', route.namespace, route.name!);
  const names = (pod.spec?.containers ?? []).map((c: any) => c.name as string);
  const initNames = (pod.spec?.initContainers ?? []).map((c: any) => c.name as string);
  let container = q.get('container') || undefined;
  // K pkg/registry/core/pod/strategy.go LogLocation.
  if (!container) {
    if (names.length === 1) container = names[0];
    else {
      let msg = `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${names.join(' ')}]`;
      if (initNames.length) msg += ` or one of the init containers: [${initNames.join(' ')}]`;
      throw badRequest(msg);
    }
  } else if (!names.includes(container) && !initNames.includes(container)) {
    throw badRequest(`container ${container} is not valid for pod ${pod.metadata.name}`);
  }
  if (!ctx.logs) return proxyPodLog(ctx, res, pod, container!, q);
  streamLog(res, ctx.logs.open(route.namespace!, route.name!, logOptionsFromQuery(q, container)));
}

/**
 * pods/log as upstream serves it (K pkg/registry/core/pod/rest/log.go, LogLocation): the kubelet of the pod's Node
 * at its InternalIP and daemon endpoint port, over TLS with the API server's kubelet client certificate; the
 * kubelet's answer (its Status on errors) is passed through. An unscheduled pod has no log yet: empty 200.
 */
function proxyPodLog(ctx: HandlerContext, res: ServerResponse, pod: KubeObject, container: string, q: URLSearchParams): void {
  const nodeName: string | undefined = pod.spec?.nodeName;
  if (!nodeName) {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 0 });
    res.end();
    return;
  }
  const node = ctx.store.get('nodes', undefined, nodeName);
  const addrs: any[] = node.status?.addresses ?? [];
  const host = (addrs.find((a) => a.type === 'InternalIP') ?? addrs.find((a) => a.type === 'Hostname'))?.address;
  const port = Number(node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0);
  if (!host || !port || !ctx.kubeletClient) throw badRequest(`no kubelet endpoint for node ${JSON.stringify(nodeName)} to read the log of pod ${pod.metadata.name}`);
  const fwd = new URLSearchParams();
  for (const n of ['follow', 'previous', 'timestamps', 'tailLines', 'sinceSeconds', 'sinceTime', 'limitBytes']) if (q.get(n) !== null) fwd.set(n, q.get(n)!);
  const seg = (x: string) => encodeURIComponent(x);
  const path = `/containerLogs/${seg(pod.metadata.namespace!)}/${seg(pod.metadata.name!)}/${seg(container)}${fwd.size ? `?${fwd}` : ''}`;
  const { cert, key, ca } = ctx.kubeletClient;
  const up = https.get({ host, port, path, cert, key, ca }, (kr) => {
    if (kr.statusCode !== 200) {
      const chunks: Buffer[] = [];
      kr.on('data', (c: Buffer) => chunks.push(c));
      kr.on('end', () => {
        let st: any;
        try {
          st = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          st = { message: Buffer.concat(chunks).toString('utf8').slice(0, 1024) };
        }
        sendStatus(res, new StatusError(kr.statusCode ?? 500, st?.reason ?? 'InternalError', String(st?.message ?? '')));
      });
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    kr.on('data', (c) => res.write(c));
    kr.on('end', () => res.end());
    kr.on('error', () => res.end());
  });
  up.on('error', (e) => {
    if (!res.headersSent) sendStatus(res, internalError(`error reading the log from the kubelet of node ${nodeName}: ${e.message}`));
    else res.end();
  });
  res.on('close', () => up.destroy());
}
