import semver from 'semver';

export type VersionPolicy = {
  /** Prereleases (1.3.0-rc.1) are candidates only when the app allows them. */
  allowPrerelease: boolean;
};

export type TaggedVersion = { tag: string; version: string };

/** Tags that read as semver versions (a leading `v` is accepted), highest first. */
export function rankVersionTags(tags: readonly string[], policy: VersionPolicy): TaggedVersion[] {
  const out: TaggedVersion[] = [];
  for (const tag of tags) {
    const parsed = semver.parse(tag);
    if (!parsed) continue;
    if (parsed.prerelease.length > 0 && !policy.allowPrerelease) continue;
    out.push({ tag, version: parsed.version });
  }
  // Equal versions (`1.2.0` and `v1.2.0`) prefer the tag spelled exactly as the version.
  return out.sort(
    (a, b) =>
      semver.rcompare(a.version, b.version) ||
      Number(b.tag === b.version) - Number(a.tag === a.version) ||
      a.tag.localeCompare(b.tag),
  );
}

/** The `latest` policy: the highest semver tag, or undefined when none qualifies. */
export function pickLatestVersion(tags: readonly string[], policy: VersionPolicy): TaggedVersion | undefined {
  return rankVersionTags(tags, policy)[0];
}

/** Up to `count` distinct versions, highest first, for messages that suggest what exists. */
export function newestVersionTags(tags: readonly string[], count: number): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const { tag, version } of rankVersionTags(tags, { allowPrerelease: false })) {
    if (seen.has(version)) continue;
    seen.add(version);
    out.push(tag);
    if (out.length === count) break;
  }
  return out;
}
