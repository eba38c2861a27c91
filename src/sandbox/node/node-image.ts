/**
 * Node.js images on the sandbox's node. Images are labels here (python/index.ts): a container of `node:<tag>` (Docker
 * Hub's official image, also spelled `docker.io/library/node:<tag>`) runs its `node` as a local process, and that
 * `node` is the machine's own, the one running the sandbox (process.execPath), whatever `node` the host PATH has:
 * the CLI bundle the in-cluster runner ships needs a current Node, and the sandbox's own is one by definition.
 * The image's tag is not honoured (one Node per machine), as Python images get the machine's Python.
 */
import fs from 'node:fs';
import path from 'node:path';
import { allowTraverse } from '../kubelet/run-as.js';

/** Whether `image` names the official Node.js image (any tag or digest). */
export function isNodeImage(image: string): boolean {
  return /^(?:(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\/)?(?:library\/)?node(?:[:@]|$)/.test(image);
}

/**
 * A layer of the container environment (like an image's ENV): for Node images, a directory holding only a `node`
 * link to this process's executable, first on PATH. Other images get nothing.
 */
export function nodeImageLayer(dataDir: string): (image: string, base: Readonly<Record<string, string>>) => Record<string, string> | undefined {
  const bin = path.join(dataDir, 'node-image', 'bin');
  let ready = false;
  const prepare = (): void => {
    if (ready) return;
    fs.mkdirSync(bin, { recursive: true, mode: 0o755 });
    // Pods may run as an unprivileged user (as root, kubelet/run-as.ts): they must reach the link.
    allowTraverse(bin, dataDir);
    const link = path.join(bin, 'node');
    fs.rmSync(link, { force: true });
    fs.symlinkSync(process.execPath, link);
    ready = true;
  };
  return (image, base) => {
    if (!isNodeImage(image)) return undefined;
    prepare();
    return { PATH: [bin, base.PATH].filter(Boolean).join(path.delimiter) };
  };
}
