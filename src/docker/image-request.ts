import { GlintError } from '../errors/index.ts';
import { DockerErrorCode } from './error-codes.ts';
import { type ImageReference, isDigest, parseImageReference } from './image-reference.ts';

/** What a deploy asked for, read against the app's repository. */
export type ImageRequest =
  | { kind: 'latest'; image: ImageReference }
  | { kind: 'tag'; image: ImageReference & { tag: string }; expectedVersion?: string }
  | { kind: 'digest'; image: ImageReference & { digest: string } };

const LOOKS_LIKE_VERSION = /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

/**
 * `latest` → the highest stamped version; `1.2.0` → tag 1.2.0 (which must be stamped 1.2.0);
 * `sha256:...` → that digest in the app's repository; `repo:tag` or `repo@sha256:...` → as written.
 */
export function parseImageRequest(repository: string, requested: string): ImageRequest {
  const text = requested.trim();
  if (text === 'latest') return { kind: 'latest', image: withoutRef(parseImageReference(repository)) };
  if (isDigest(text)) {
    return { kind: 'digest', image: { ...withoutRef(parseImageReference(repository)), digest: text } };
  }
  if (text.includes('/') || text.includes(':') || text.includes('@')) {
    const image = parseImageReference(text);
    if (image.digest) return { kind: 'digest', image: { ...image, digest: image.digest } };
    if (image.tag) return tagRequest({ ...image, tag: image.tag });
    throw new GlintError(
      DockerErrorCode.InvalidImageRequest,
      `image '${text}' names no tag or digest; write it as '${text}:<version>' or '${text}@sha256:...'`,
    );
  }
  const image = parseImageReference(`${repository}:${text}`);
  return tagRequest({ ...image, tag: text });
}

function tagRequest(image: ImageReference & { tag: string }): ImageRequest {
  return LOOKS_LIKE_VERSION.test(image.tag)
    ? { kind: 'tag', image, expectedVersion: image.tag }
    : { kind: 'tag', image };
}

function withoutRef(ref: ImageReference): ImageReference {
  if (ref.tag || ref.digest) {
    throw new GlintError(
      DockerErrorCode.InvalidImageRequest,
      `the app's image '${ref.repository}:${ref.tag ?? ref.digest}' must be a repository without tag or digest; put the version in 'version'`,
    );
  }
  return ref;
}
