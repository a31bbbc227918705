import { GlintError } from '../errors/index.ts';
import { DockerErrorCode } from './error-codes.ts';
import type { ImageReference } from './image-reference.ts';
import { parseImageRequest } from './image-request.ts';
import { newestVersionTags, pickLatestVersion } from './pick-version.ts';
import type { RegistryClient } from './registry-client.ts';
import { readStamp, verifyStamp } from './stamp.ts';

/** One immutable image: every container is created from `ref`, never from a tag. */
export type ResolvedImage = {
  /** Repository as written, e.g. `127.0.0.1:5000/demo-app`. */
  repository: string;
  /** `repository@sha256:...`. */
  ref: string;
  digest: string;
  /** The stamped version (the tag when the image carries no stamp and none is required). */
  version: string;
  revision?: string;
  created?: string;
  /** The tag it was resolved from, when one was. */
  tag?: string;
};

export type ResolveImageInput = {
  /** The app's repository without tag or digest. */
  repository: string;
  /** `1.2.0`, `latest`, `sha256:...`, `repo:tag` or `repo@sha256:...`. */
  requested: string;
  allowPrerelease?: boolean;
  /** Verify the version and revision labels before anything changes (default true). */
  requireStamp?: boolean;
};

const SUGGESTED_TAGS = 3;

/**
 * Turns what a deploy asked for into one pinned digest, reading tags, manifest and the image's
 * config blob from the registry. Reading the config blob (a few KB) rather than pulling lets a
 * wrong stamp be refused before a single layer lands on the node.
 */
export async function resolveImage(
  registry: RegistryClient,
  input: ResolveImageInput,
  call: { signal?: AbortSignal } = {},
): Promise<ResolvedImage> {
  const request = parseImageRequest(input.repository, input.requested);
  let image: ImageReference;
  let expectedVersion: string | undefined;
  if (request.kind === 'latest') {
    const tags = await registry.listTags(request.image, call);
    const picked = pickLatestVersion(tags, { allowPrerelease: input.allowPrerelease ?? false });
    if (!picked) throw noVersion(request.image, tags, input.allowPrerelease ?? false);
    image = { ...request.image, tag: picked.tag };
    expectedVersion = picked.version;
  } else {
    image = request.image;
    expectedVersion = request.kind === 'tag' ? request.expectedVersion : undefined;
  }
  const { digest, config } = await readImage(registry, image, call);
  const stamp = readStamp(config.labels);
  const ref = `${image.repository}@${digest}`;
  if (input.requireStamp ?? true)
    verifyStamp({ image: image.tag ? `${image.repository}:${image.tag}` : ref, stamp, expectedVersion });
  const resolved: ResolvedImage = {
    repository: image.repository,
    ref,
    digest,
    version: stamp.version ?? image.tag ?? digest.slice(0, 19),
  };
  if (stamp.revision) resolved.revision = stamp.revision;
  const created = stamp.created ?? config.created;
  if (created) resolved.created = created;
  if (image.tag) resolved.tag = image.tag;
  return resolved;
}

async function readImage(registry: RegistryClient, image: ImageReference, call: { signal?: AbortSignal }) {
  try {
    return await registry.readImage(image, call);
  } catch (err) {
    if (
      !(err instanceof GlintError) ||
      err.code !== DockerErrorCode.ManifestNotFound ||
      !image.tag ||
      image.digest
    ) {
      throw err;
    }
    const tags = await registry.listTags(image, call).catch(() => undefined);
    throw tagNotFound(image, tags, err);
  }
}

function tagNotFound(image: ImageReference, tags: string[] | undefined, cause: unknown): GlintError {
  const newest = tags ? newestVersionTags(tags, SUGGESTED_TAGS) : [];
  const hint =
    tags === undefined
      ? 'the tag list could not be read'
      : newest.length > 0
        ? `newest stamped tags: ${newest.join(', ')}`
        : 'the repository has no version tags; push a stamped version first';
  return new GlintError(
    DockerErrorCode.TagNotFound,
    `tag ${image.tag} not found in ${image.repository}; ${hint}`,
    {
      cause,
      details: { repository: image.repository, tag: image.tag, newest },
    },
  );
}

function noVersion(image: ImageReference, tags: string[], allowPrerelease: boolean): GlintError {
  const shown = tags.slice(0, 10).join(', ') || 'none';
  const why = allowPrerelease
    ? 'no semver tag'
    : 'no semver release tag (prereleases are not allowed for this app)';
  return new GlintError(
    DockerErrorCode.NoStampedVersion,
    `cannot pick 'latest' in ${image.repository}: ${why}; tags: ${shown}. Push a version tag such as 1.0.0`,
    { details: { repository: image.repository, tags: tags.slice(0, 50) } },
  );
}
