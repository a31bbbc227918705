import { GlintError } from '../errors/index.ts';
import { DockerErrorCode } from './error-codes.ts';

/** An image reference split the way Docker reads it. */
export type ImageReference = {
  /** Registry host as written (`127.0.0.1:5000`), `docker.io` when none is written. */
  registry: string;
  /** Repository path inside the registry (`demo-app`, `library/node`). */
  path: string;
  /** Repository as a person writes it, without tag or digest (`127.0.0.1:5000/demo-app`). */
  repository: string;
  tag?: string;
  digest?: string;
};

export const DOCKER_HUB = 'docker.io';
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const PATH = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

export function isDigest(text: string): boolean {
  return DIGEST.test(text);
}

/** Docker's rule: the first component names a registry when it has a dot, a port, or is localhost. */
function splitRegistry(name: string): { registry: string; path: string } {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    return { registry: first, path: name.slice(slash + 1) };
  }
  return { registry: DOCKER_HUB, path: slash < 0 ? `library/${name}` : name };
}

function invalid(ref: string, why: string): GlintError {
  return new GlintError(
    DockerErrorCode.InvalidImageRequest,
    `invalid image reference '${ref}': ${why}; expected e.g. '127.0.0.1:5000/demo-app:1.2.0' or 'demo-app@sha256:...'`,
  );
}

/** Parses `[registry/]path[:tag][@sha256:...]`. */
export function parseImageReference(ref: string): ImageReference {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw invalid(ref, `'${digest}' is not a sha256 digest`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(ref, `'${tag}' is not a valid tag`);
  }
  const { registry, path } = splitRegistry(rest);
  if (!PATH.test(path)) throw invalid(ref, `'${path}' is not a valid repository path`);
  const out: ImageReference = { registry, path, repository: rest };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}
