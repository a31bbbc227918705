import { parseImageReference } from '../docker/index.ts';
import { GlintError } from '../errors/index.ts';
import { ApiErrorCode } from './error-codes.ts';
import type { DeployBody } from './request-schemas.ts';

/**
 * What the rollout engine resolves for a deploy body: a version, a digest, or the tag or digest
 * of `{image}`. A deploy token must not run arbitrary images on the Docker host, so `{image}`
 * may only name the app's declared repository; only its tag or digest goes on, resolved
 * against that repository.
 */
export function requestedVersion(app: string, declaredImage: string, body: DeployBody): string {
  if (body.version !== undefined) return body.version;
  if (body.digest !== undefined) return body.digest;
  const text = body.image ?? '';
  const asked = parseImageReference(text);
  const declared = parseImageReference(declaredImage);
  if (asked.registry !== declared.registry || asked.path !== declared.path)
    throw new GlintError(
      ApiErrorCode.ImageNotAllowed,
      `${app} runs images of ${declared.repository} only; deploy '${declared.repository}:<version>' or change the app's image in the declaration`,
      { details: { app, allowed: declared.repository } },
    );
  const ref = asked.digest ?? asked.tag;
  if (!ref)
    throw new GlintError(
      ApiErrorCode.InvalidRequest,
      `body.image names no tag or digest; write it as '${declared.repository}:<version>'`,
      { details: { issues: [{ path: 'body.image', message: 'a tag or digest is required' }] } },
    );
  return ref;
}
