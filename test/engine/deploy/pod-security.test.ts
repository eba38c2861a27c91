/** The Warning header's texts and the Pod Security level they break (pure functions; end to end in test/on-upstream). */
import { describe, expect, it } from 'vitest';
import { parseWarnings } from '../../../src/engine/kube/client.js';
import { enforcedLevel, enforcedViolation, podSecurityReason } from '../../../src/engine/deploy/pod-security.js';

const RESTRICTED = 'would violate PodSecurity "restricted:latest": runAsNonRoot != true (pod or container "bodywork" must set securityContext.runAsNonRoot=true)';

describe('Pod Security warnings', () => {
  it('parses one or several RFC 7234 warnings, quotes unescaped', () => {
    expect(parseWarnings(`299 - "${RESTRICTED.replace(/"/g, '\\"')}"`)).toEqual([RESTRICTED]);
    expect(parseWarnings('299 - "a, b", 299 - "c"')).toEqual(['a, b', 'c']);
    expect(parseWarnings('garbage')).toEqual([]);
  });

  it('finds the violation of the enforced level only', () => {
    expect(enforcedLevel({ 'pod-security.kubernetes.io/enforce': 'restricted' })).toBe('restricted');
    expect(enforcedLevel({ 'pod-security.kubernetes.io/enforce': 'privileged' })).toBeUndefined();
    expect(enforcedLevel(undefined)).toBeUndefined();
    expect(enforcedViolation(['some deprecation', RESTRICTED], 'restricted')).toBe(RESTRICTED);
    // A warn-only label (warn=restricted, enforce=baseline) warns but admits the pods.
    expect(enforcedViolation([RESTRICTED], 'baseline')).toBeUndefined();
    expect(enforcedViolation([RESTRICTED], undefined)).toBeUndefined();
    expect(podSecurityReason('ml', RESTRICTED)).toBe(
      'namespace=ml enforces Pod Security "restricted:latest", which rejects the stage\'s pods: runAsNonRoot != true (pod or container "bodywork" must set securityContext.runAsNonRoot=true)',
    );
  });
});
