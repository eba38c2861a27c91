import { describe, expect, it } from 'vitest';
import { familiarImage, normalizeImage } from '../../../src/sandbox/machinery/images.js';

// Expected values are distribution/reference's ParseNormalizedNamed + TagNameOnly (what containerd reports and the
// kubelet compares), and FamiliarString for the short form.
describe('image references', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['docker.io/library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/library/busybox:1', 'docker.io/library/busybox:1', 'busybox:1'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['bodyworkml/bodywork-core:3.1', 'docker.io/bodyworkml/bodywork-core:3.1', 'bodyworkml/bodywork-core:3.1'],
    ['ghcr.io/org/img', 'ghcr.io/org/img:latest', 'ghcr.io/org/img:latest'],
    ['localhost/img', 'localhost/img:latest', 'localhost/img:latest'],
    ['localhost:5000/img:1', 'localhost:5000/img:1', 'localhost:5000/img:1'],
    ['registry:5000/x', 'registry:5000/x:latest', 'registry:5000/x:latest'],
    ['Registry/x', 'Registry/x:latest', 'Registry/x:latest'],
    ['x@sha256:abc', 'docker.io/library/x@sha256:abc', 'x@sha256:abc'],
    ['x:1@sha256:abc', 'docker.io/library/x:1@sha256:abc', 'x:1@sha256:abc'],
    ['', '', ''],
  ])('%s is %s (short: %s)', (image, full, short) => {
    expect(normalizeImage(image)).toBe(full);
    expect(familiarImage(image)).toBe(short);
  });
});
