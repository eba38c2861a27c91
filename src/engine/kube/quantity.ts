/**
 * Kubernetes resource quantities (K staging/src/k8s.io/apimachinery/pkg/api/resource/quantity.go), one parser for the
 * whole program: the sandbox's scheduler fits pods with it, the plan checks pod overrides' resources with it.
 */

/**
 * An extended resource (`nvidia.com/gpu`, K pkg/apis/core/helper IsExtendedResourceName): a qualified name with a
 * domain outside kubernetes.io, advertised by a node (a device plugin) and counted in whole units.
 */
export function isExtendedResource(name: string): boolean {
  return name.includes('/') && !/^([^/]*\.)?kubernetes\.io\//.test(name) && !name.startsWith('requests.');
}

const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?\d+))?$/;

/**
 * Parses a Kubernetes quantity (`500m`, `0.5`, `100M`, `100Mi`, `1Gi`, `1e3`, or a number) exactly and answers
 * `ceil(value * 10^scale)`: scale 3 gives milli-units (cpu, upstream MilliValue), scale 0 whole units (memory bytes,
 * upstream Value) - both round up as upstream does. Throws on a malformed quantity.
 */
export function parseQuantity(q: string | number, scale = 0): number {
  const s = typeof q === 'number' ? numberText(q) : q.trim();
  const m = QUANTITY.exec(s);
  if (!m) throw new Error(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': ${JSON.stringify(s)}`);
  const [, sign, mantissa, suffix, exp] = m;
  const [int, frac = ''] = mantissa.split('.');
  let num = BigInt((int || '0') + frac);
  let den = 10n ** BigInt(frac.length);
  let ten = scale;
  if (suffix !== undefined && suffix in BINARY) num *= 2n ** BigInt(BINARY[suffix]);
  else if (suffix !== undefined) ten += DECIMAL[suffix];
  if (exp !== undefined) ten += Number(exp);
  if (ten >= 0) num *= 10n ** BigInt(ten);
  else den *= 10n ** BigInt(-ten);
  // ceil toward +inf for positive values; negative quantities are invalid requests anyway.
  const v = sign === '-' ? -(num / den) : (num + den - 1n) / den;
  return Number(v);
}

function numberText(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`invalid quantity ${n}`);
  return String(n);
}

/** Whether `q` is a valid quantity (`500m`, `1Gi`, `2`, `1e3`). */
export function isQuantity(q: string | number): boolean {
  try {
    parseQuantity(q);
    return true;
  } catch {
    return false;
  }
}
