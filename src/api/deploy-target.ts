import { parseImageReference } from '../docker/index.ts';
import { GlintError } from '../errors/index.ts';
import { ApiErrorCode } from './error-codes.ts';
import type { DeployBody } from './request-schemas.ts';

/** What a deploy asks the engine to resolve: a version, and the repository when not the app's own. */
export type DeployTarget = { version: string; repository?: string };

/**
 * What the rollout engine resolves for a deploy body: a version, a digest, or the tag or digest
 * of `{image}`. A deploy token must not run arbitrary images on the Docker host, so `{image}`
 * may only name the app's declared repository or one of its `allowedImages`; only its tag or
 * digest goes on, resolved against that repository.
 */
export function requestedTarget(
  app: string,
  declared: { image: string; allowedImages?: readonly string[] },
  body: DeployBody,
): DeployTarget {
  if (body.version !== undefined) return { version: body.version };
  if (body.digest !== undefined) return { version: body.digest };
  const text = body.image ?? '';
  const asked = parseImageReference(text);
  const own = parseImageReference(declared.image);
  const allowed = [own, ...(declared.allowedImages ?? []).map((i) => parseImageReference(i))];
  const match = allowed.find((a) => a.registry === asked.registry && a.path === asked.path);
  if (!match)
    throw new GlintError(
      ApiErrorCode.ImageNotAllowed,
      `${app} runs images of ${allowed.map((a) => a.repository).join(', ')} only; deploy '${own.repository}:<version>' or list the repository in the app's allowedImages`,
      { details: { app, allowed: allowed.map((a) => a.repository) } },
    );
  const ref = asked.digest ?? asked.tag;
  if (!ref)
    throw new GlintError(
      ApiErrorCode.InvalidRequest,
      `body.image names no tag or digest; write it as '${match.repository}:<version>'`,
      { details: { issues: [{ path: 'body.image', message: 'a tag or digest is required' }] } },
    );
  return match === own ? { version: ref } : { version: ref, repository: match.repository };
}
