/**
 * Kubernetes' own rules for names, label keys and values (apimachinery's validation: IsDNS1123Label,
 * IsDNS1123Subdomain, IsDNS1035Label, IsQualifiedName, IsValidLabelValue): the one home for them, so what
 * validation checks, planning deploys and inputs accept agree. What Bodywork names become (shortening, prefixes)
 * is plan/names.ts.
 */

/** Longest DNS label, label value and Service name. */
export const MAX_NAME_LENGTH = 63;

const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A DNS-1035 label (Service names): lower-case alphanumerics and `-`, starting with a letter, at most 63. */
export function isDns1035Label(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && DNS_1035_LABEL.test(name);
}

/** A DNS-1123 label (Namespace names): lower-case alphanumerics and `-`, at most 63. */
export function isDns1123Label(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && DNS_1123_LABEL.test(name);
}

/** A DNS-1123 subdomain (Secret, ConfigMap names): lower-case alphanumerics, `-` and `.`, at most 253. */
export function isDns1123Subdomain(name: string): boolean {
  return name.length <= 253 && DNS_1123_SUBDOMAIN.test(name);
}

/**
 * A qualified name (label and annotation keys, extended resource names): an optional DNS-1123 subdomain prefix and
 * `/`, then at most 63 of `[A-Za-z0-9_.-]`, alphanumeric at both ends.
 */
export function isQualifiedName(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && !isDns1123Subdomain(prefix)) return false;
  return name.length <= MAX_NAME_LENGTH && QUALIFIED_NAME_PART.test(name);
}

/** A label value: at most 63 of `[A-Za-z0-9_.-]`, alphanumeric at both ends, or empty. */
export function isLabelValue(value: string): boolean {
  return value.length <= MAX_NAME_LENGTH && LABEL_VALUE.test(value);
}
