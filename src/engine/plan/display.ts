/**
 * A plan's objects as printed: the code ConfigMaps' files described by size and hash, never their contents (the YAML
 * rendering is render.ts's).
 */
import { createHash } from 'node:crypto';
import { LABEL_CODE_HASH } from './bundle.js';
import { planObjects } from './plan.js';
import type { DeployPlan, PlannedObject } from './types.js';

export interface RenderOptions {
  /** Print the project files held in the code ConfigMaps (for `kubectl apply`); by default each is only described. */
  codeContents?: boolean;
}

function describeFile(content: Buffer): string {
  return `<file content not shown: ${content.length} bytes, sha256 ${createHash('sha256').update(content).digest('hex')}>`;
}

/** A code ConfigMap with each file replaced by its size and hash, so printing a plan never prints the project's files. */
export function withoutCode<T extends { kind?: string; metadata?: { labels?: Record<string, string> } }>(object: T): T {
  if (object.kind !== 'ConfigMap' || object.metadata?.labels?.[LABEL_CODE_HASH] === undefined || !('data' in object || 'binaryData' in object)) return object;
  const cm = object as { data?: Record<string, string>; binaryData?: Record<string, string> };
  const map = (values: Record<string, string> | undefined, decode: (v: string) => Buffer) =>
    values === undefined ? undefined : Object.fromEntries(Object.entries(values).map(([k, v]) => [k, describeFile(decode(v))]));
  const data = map(cm.data, (v) => Buffer.from(v, 'utf8'));
  const binaryData = map(cm.binaryData, (v) => Buffer.from(v, 'base64'));
  return { ...object, ...(data !== undefined ? { data } : {}), ...(binaryData !== undefined ? { binaryData } : {}) } as T;
}

/** The plan's objects in apply order, as printed: the code ConfigMaps' files described (size, sha256) unless `codeContents`. */
export function displayObjects(plan: DeployPlan, options: RenderOptions = {}): PlannedObject[] {
  return planObjects(plan).map((o) => (options.codeContents === true ? o : withoutCode(o)));
}
