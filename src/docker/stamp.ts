import semver from 'semver';
import { GlintError } from '../errors/index.ts';
import { DockerErrorCode } from './error-codes.ts';

export const STAMP_LABELS = {
  version: 'org.opencontainers.image.version',
  revision: 'org.opencontainers.image.revision',
  created: 'org.opencontainers.image.created',
} as const;

export type Stamp = { version?: string; revision?: string; created?: string };

export function readStamp(labels: Readonly<Record<string, string>>): Stamp {
  const out: Stamp = {};
  for (const key of ['version', 'revision', 'created'] as const) {
    const value = labels[STAMP_LABELS[key]]?.trim();
    if (value) out[key] = value;
  }
  return out;
}

/** `v1.2.0` and `1.2.0` name the same version; other strings compare exactly. */
function sameVersion(a: string, b: string): boolean {
  const pa = semver.parse(a);
  const pb = semver.parse(b);
  return pa && pb ? pa.version === pb.version : a === b;
}

/**
 * The stamp check run before anything changes: the version label equals the version asked for
 * (when one was asked for) and a revision label exists. Throws StampMissing or StampMismatch.
 */
export function verifyStamp(input: {
  image: string;
  stamp: Stamp;
  expectedVersion?: string | undefined;
}): void {
  const { image, stamp, expectedVersion } = input;
  const missing = (['version', 'revision'] as const).filter((k) => !stamp[k]);
  if (missing.length > 0) {
    const labels = missing.map((k) => STAMP_LABELS[k]).join(' and ');
    throw new GlintError(
      DockerErrorCode.StampMissing,
      `image ${image} is not stamped: label ${labels} missing; build it with --label ${STAMP_LABELS.version}=<version> --label ${STAMP_LABELS.revision}=<commit>, or set requireStamp: false for this app`,
      { details: { image, missing: missing.map((k) => STAMP_LABELS[k]) } },
    );
  }
  if (expectedVersion !== undefined && !sameVersion(stamp.version!, expectedVersion)) {
    throw new GlintError(
      DockerErrorCode.StampMismatch,
      `image ${image} is stamped ${stamp.version}, not ${expectedVersion}: the tag points at another build; retag or rebuild it with ${STAMP_LABELS.version}=${expectedVersion}`,
      { details: { image, expected: expectedVersion, stamped: stamp.version } },
    );
  }
}
