import { createHash } from 'node:crypto';
import { GlintError } from '../errors/index.ts';
import { DockerErrorCode } from './error-codes.ts';
import type { ImageReference } from './image-reference.ts';
import { authFailed, type RegistryAuthenticator } from './registry-auth.ts';
import { fetchRegistry, registryBaseUrl, registryErrorCodes, unexpectedStatus } from './registry-http.ts';

export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
] as const;

/** What the image's config blob says about it: the stamp lives in its labels. */
export type ImageConfig = {
  labels: Record<string, string>;
  created?: string;
  os?: string;
  architecture?: string;
};

export type RegistryClientOptions = {
  authenticator: RegistryAuthenticator;
  /** Bound on every single request (default 10 s). */
  timeoutMs?: number;
  /** Hosts outside loopback that speak plain HTTP. */
  plainHttpHosts?: readonly string[];
  /** Platform picked from multi-platform indexes (default: this machine's). */
  platform?: { os: string; architecture: string };
};

type Call = { signal?: AbortSignal | undefined };
type Manifest = {
  mediaType?: string;
  manifests?: Array<{ digest: string; platform?: { os?: string; architecture?: string } }>;
  config?: { digest: string };
};

const ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  s390x: 's390x',
};
const MAX_TAG_PAGES = 50;
/**
 * Config blobs kept, oldest dropped first. A blob is named by the digest of its bytes (checked
 * on the first read), so a kept one is never stale: a moved tag names another manifest, whose
 * config digest differs. Only the manifest is read again on each resolve.
 */
const CONFIGS_KEPT = 256;

/** A client of the registry v2 HTTP API: the few reads glint needs to pin and check images. */
export class RegistryClient {
  readonly #auth: RegistryAuthenticator;
  readonly #timeoutMs: number;
  readonly #plain: readonly string[];
  readonly #platform: { os: string; architecture: string };
  readonly #configs = new Map<string, ImageConfig>();

  constructor(opts: RegistryClientOptions) {
    this.#auth = opts.authenticator;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#plain = opts.plainHttpHosts ?? [];
    this.#platform = opts.platform ?? { os: 'linux', architecture: ARCH[process.arch] ?? process.arch };
  }

  /** Every tag of the repository (following pagination). */
  async listTags(ref: ImageReference, call: Call = {}): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${ref.path}/tags/list?n=1000`;
    for (let page = 0; path && page < MAX_TAG_PAGES; page++) {
      const res = await this.#get(ref, path, { accept: 'application/json' }, call);
      if (res.status === 404) throw await this.#notFound(ref, res, 'tags');
      if (!res.ok) throw await unexpectedStatus(ref.registry, res, `listing tags of ${ref.repository}`);
      const body = (await res.json()) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      path = nextPage(res.headers.get('link'));
    }
    return tags;
  }

  /**
   * The digest a tag (or digest) points at, the value `repo@sha256:...` pins, and what the
   * image's config blob says about it, without pulling any layer. One GET of the manifest
   * gives both its bytes and its digest: glint hashes the bytes itself and refuses an answer
   * whose hash differs from the digest the registry names or the reference asked for, and
   * checks the config blob against the digest the manifest gives it.
   */
  async readImage(ref: ImageReference, call: Call = {}): Promise<{ digest: string; config: ImageConfig }> {
    const reference = ref.digest ?? ref.tag ?? 'latest';
    const top = await this.#manifest(ref, reference, call);
    let manifest = top.manifest;
    if (manifest.manifests) {
      const entry =
        manifest.manifests.find(
          (m) =>
            m.platform?.os === this.#platform.os && m.platform?.architecture === this.#platform.architecture,
        ) ?? manifest.manifests[0];
      if (!entry) throw protocol(ref, `index ${top.digest} lists no manifests`);
      manifest = (await this.#manifest(ref, entry.digest, call)).manifest;
    }
    const configDigest = manifest.config?.digest;
    if (!configDigest) throw protocol(ref, `manifest ${top.digest} has no config blob`);
    const cacheKey = `${ref.registry}/${ref.path}@${configDigest}`;
    const known = this.#configs.get(cacheKey);
    if (known) return { digest: top.digest, config: { ...known, labels: { ...known.labels } } };
    const config = await this.#readConfig(ref, configDigest, call);
    this.#configs.set(cacheKey, config);
    if (this.#configs.size > CONFIGS_KEPT) this.#configs.delete(this.#configs.keys().next().value!);
    return { digest: top.digest, config: { ...config, labels: { ...config.labels } } };
  }

  async #readConfig(ref: ImageReference, configDigest: string, call: Call): Promise<ImageConfig> {
    const res = await this.#get(ref, `/v2/${ref.path}/blobs/${configDigest}`, { accept: '*/*' }, call);
    if (!res.ok) throw await unexpectedStatus(ref.registry, res, `reading config blob of ${ref.repository}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (sha256(bytes) !== configDigest)
      throw protocol(ref, `config blob ${configDigest} does not hash to its digest`);
    const blob = JSON.parse(bytes.toString('utf8')) as {
      created?: string;
      os?: string;
      architecture?: string;
      config?: { Labels?: Record<string, string> | null };
    };
    const config: ImageConfig = { labels: blob.config?.Labels ?? {} };
    if (blob.created) config.created = blob.created;
    if (blob.os) config.os = blob.os;
    if (blob.architecture) config.architecture = blob.architecture;
    return config;
  }

  /** A manifest and the digest of its exact bytes, checked against what the registry and `reference` say. */
  async #manifest(
    ref: ImageReference,
    reference: string,
    call: Call,
  ): Promise<{ manifest: Manifest; digest: string }> {
    const path = `/v2/${ref.path}/manifests/${reference}`;
    const res = await this.#get(ref, path, { accept: MANIFEST_MEDIA_TYPES.join(', ') }, call);
    if (res.status === 404) throw await this.#notFound(ref, res, reference);
    if (!res.ok)
      throw await unexpectedStatus(ref.registry, res, `reading manifest ${ref.repository}@${reference}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    const digest = sha256(bytes);
    const named = res.headers.get('docker-content-digest');
    // A registry that names another sha256 digest than the bytes it sent is not trusted; one
    // naming another algorithm is checked by the reference alone.
    if (named?.startsWith('sha256:') && named !== digest)
      throw protocol(
        ref,
        `manifest ${reference} hashes to ${digest}, not to the ${named} the registry names`,
      );
    if (reference.startsWith('sha256:') && reference !== digest)
      throw protocol(ref, `manifest ${reference} hashes to ${digest}`);
    return { manifest: JSON.parse(bytes.toString('utf8')) as Manifest, digest };
  }

  /** One request, answering a 401 challenge once; a second 401 means the credentials are bad. */
  async #get(
    ref: ImageReference,
    path: string,
    headers: Record<string, string>,
    call: Call,
  ): Promise<Response> {
    const host = ref.registry;
    const scope = `repository:${ref.path}:pull`;
    const url = `${registryBaseUrl(host, this.#plain)}${path}`;
    const send = (authorization: string | undefined) =>
      fetchRegistry(
        host,
        url,
        { headers: authorization ? { ...headers, authorization } : headers },
        { timeoutMs: this.#timeoutMs, signal: call.signal },
      );
    const cached = this.#auth.cached(host, scope);
    const first = await send(cached);
    if (first.status !== 401) return first;
    await first.body?.cancel();
    if (cached) this.#auth.forget(host, scope);
    const challenge = first.headers.get('www-authenticate');
    if (!challenge) throw authFailed(host, undefined, '401 without a challenge');
    const authorization = await this.#auth.answer(host, challenge, scope, (tokenUrl, tokenHeaders) =>
      fetchRegistry(
        host,
        tokenUrl,
        { headers: tokenHeaders },
        { timeoutMs: this.#timeoutMs, signal: call.signal },
      ),
    );
    const second = await send(authorization);
    if (second.status === 401) {
      await second.body?.cancel();
      this.#auth.forget(host, scope);
      throw this.#auth.refused(host);
    }
    return second;
  }

  async #notFound(ref: ImageReference, res: Response, reference: string): Promise<GlintError> {
    const codes = await registryErrorCodes(res);
    const details = { registry: ref.registry, repository: ref.repository, reference };
    if (codes.includes('NAME_UNKNOWN') || reference === 'tags') {
      return new GlintError(
        DockerErrorCode.RepositoryNotFound,
        `repository ${ref.repository} does not exist in registry ${ref.registry}; check the app's image name or push the image first`,
        { details },
      );
    }
    return new GlintError(
      DockerErrorCode.ManifestNotFound,
      `${reference} not found in ${ref.repository}; check the version or push the image first`,
      { details },
    );
  }
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function protocol(ref: ImageReference, what: string): GlintError {
  return new GlintError(
    DockerErrorCode.RegistryProtocol,
    `registry ${ref.registry}: ${what} (${ref.repository})`,
  );
}

/** `Link: </v2/x/tags/list?last=a&n=1000>; rel="next"` → the path of the next page. */
export function nextPage(link: string | null): string | undefined {
  const match = link?.match(/<([^>]+)>\s*;\s*rel="?next"?/);
  if (!match) return undefined;
  const target = match[1]!;
  return target.startsWith('/') ? target : new URL(target).pathname + new URL(target).search;
}
