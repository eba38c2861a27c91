/**
 * The benchmark's project (YAML "1.1", Bodywork 3's format): `prep >> train-a, train-b, train-c >> serve-a, serve-b`,
 * a 1 s prep, three 3 s stages, two services. Every script stamps its own wall clock on stdout (`BENCH {json}`), so the
 * nominal work is what the scripts measured, not what the engine saw: batch stages stamp start and end, services
 * stamp start and the moment their socket listens. Pods share the host's clock, so stamps compare with the bench's.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const PREP_SECONDS = 1;
export const TRAIN_SECONDS = 3;
export const DAG = 'prep >> train-a, train-b, train-c >> serve-a, serve-b';
const PORT = 5000;

const STAMP = 'import json, time\ndef stamp(event):\n    print("BENCH " + json.dumps({"event": event, "t": time.time() * 1000}), flush=True)\n';

const batchScript = (seconds: number) => `${STAMP}stamp("start")\ntime.sleep(${seconds})\nstamp("end")\n`;

// Bind and listen first, stamp second: the stamp is then never earlier than the port accepting connections.
const serviceScript = `${STAMP}stamp("start")
import http.server
server = http.server.HTTPServer(("0.0.0.0", ${PORT}), http.server.SimpleHTTPRequestHandler)
stamp("listening")
server.serve_forever()
`;

function stage(name: string, kind: string): string {
  return `  ${name}:\n    executable_module_path: ${name}/main.py\n    cpu_request: 0.1\n    memory_request_mb: 50\n${kind}`;
}
const batch = (name: string) => stage(name, '    batch:\n      max_completion_time_seconds: 120\n      retries: 0\n');
const service = (name: string) => stage(name, `    service:\n      max_startup_time_seconds: 60\n      replicas: 1\n      port: ${PORT}\n      ingress: false\n`);

export function projectFiles(): Record<string, string> {
  return {
    'bodywork.yaml':
      `version: "1.1"\npipeline:\n  name: bench\n  docker_image: bodyworkml/bodywork-core:latest\n  DAG: ${DAG}\nstages:\n` +
      batch('prep') +
      ['train-a', 'train-b', 'train-c'].map(batch).join('') +
      ['serve-a', 'serve-b'].map(service).join('') +
      'logging:\n  log_level: INFO\n',
    'prep/main.py': batchScript(PREP_SECONDS),
    ...Object.fromEntries(['train-a', 'train-b', 'train-c'].map((n) => [`${n}/main.py`, batchScript(TRAIN_SECONDS)])),
    'serve-a/main.py': serviceScript,
    'serve-b/main.py': serviceScript,
  };
}

/** Writes the project to a new temporary directory and returns it. */
export async function writeProject(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bodywork-bench-'));
  for (const [path, content] of Object.entries(projectFiles())) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

/** A script's own stamps (epoch ms): `start`, then `end` (batch) or `listening` (service). */
export type Stamps = Partial<Record<'start' | 'end' | 'listening', number>>;

/** The `BENCH` stamps in a pod's log (other lines, such as the stage runner's, are ignored). */
export function parseStamps(log: string): Stamps {
  const stamps: Stamps = {};
  for (const line of log.split('\n')) {
    const m = /BENCH (\{.*\})\s*$/.exec(line);
    if (!m) continue;
    const { event, t } = JSON.parse(m[1]!) as { event: keyof Stamps; t: number };
    stamps[event] = t;
  }
  return stamps;
}
