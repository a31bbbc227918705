import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type FakeImage = { tag: string; labels: Record<string, string> };

/**
 * An in-process stand-in for a v2 registry behind a Bearer token service, enough to exercise
 * the client's auth flow, pagination and error mapping without Docker.
 */
export class FakeRegistry {
  readonly tokenRequests: Array<{ authorization?: string; scope?: string }> = [];
  /** The digest of every blob served, in order. */
  readonly blobReads: string[] = [];
  omitDigestHeader = false;
  /** Sends bytes that differ from the digest they are served under. */
  tamper: 'manifest' | 'blob' | undefined;
  failWith: number | undefined;
  delayMs = 0;
  pageSize = 2;
  #server: Server | undefined;
  #manifests = new Map<string, { body: string; digest: string }>();
  #tags = new Map<string, string>();
  #blobs = new Map<string, string>();

  constructor(
    readonly repo: string,
    images: FakeImage[],
    readonly user = 'ci',
    readonly password = 's3cret',
  ) {
    for (const image of images) this.push(image);
  }

  push(image: FakeImage): string {
    const config = JSON.stringify({
      created: '2026-01-01T00:00:00Z',
      os: 'linux',
      config: { Labels: image.labels },
    });
    const configDigest = sha(config);
    this.#blobs.set(configDigest, config);
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { digest: configDigest },
      layers: [],
    });
    const digest = sha(body);
    this.#manifests.set(digest, { body, digest });
    this.#tags.set(image.tag, digest);
    return digest;
  }

  digestOf(tag: string): string {
    const digest = this.#tags.get(tag);
    if (!digest) throw new Error(`no tag ${tag}`);
    return digest;
  }

  /** Answers a fetch of `digest` with the manifest of `tag`: a registry serving the wrong content. */
  serveUnderDigest(digest: string, tag: string): void {
    this.#manifests.set(digest, this.#manifests.get(this.digestOf(tag))!);
  }

  async start(): Promise<string> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r));
    const address = this.#server.address();
    return `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((r) => this.#server?.close(r));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (url.pathname === '/token') return this.#token(req, url, res);
    if (this.failWith) return send(res, this.failWith, { errors: [{ code: 'UNAVAILABLE' }] });
    if (req.headers.authorization !== 'Bearer good-token') {
      const host = req.headers.host;
      res.setHeader(
        'www-authenticate',
        `Bearer realm="http://${host}/token",service="fake",scope="repository:${this.repo}:pull"`,
      );
      return send(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] });
    }
    const prefix = `/v2/${this.repo}/`;
    if (!url.pathname.startsWith(prefix)) return send(res, 404, { errors: [{ code: 'NAME_UNKNOWN' }] });
    const rest = url.pathname.slice(prefix.length);
    if (rest === 'tags/list') return this.#tagsPage(url, res);
    if (rest.startsWith('manifests/')) return this.#manifest(rest.slice('manifests/'.length), res);
    if (rest.startsWith('blobs/')) {
      this.blobReads.push(rest.slice('blobs/'.length));
      const blob = this.#blobs.get(rest.slice('blobs/'.length));
      if (!blob) return send(res, 404, { errors: [{ code: 'BLOB_UNKNOWN' }] });
      return void res.end(this.tamper === 'blob' ? `${blob} ` : blob);
    }
    send(res, 404, {});
  }

  #token(req: IncomingMessage, url: URL, res: ServerResponse): void {
    this.tokenRequests.push({
      authorization: req.headers.authorization,
      scope: url.searchParams.get('scope') ?? undefined,
    });
    const expected = `Basic ${Buffer.from(`${this.user}:${this.password}`).toString('base64')}`;
    if (req.headers.authorization === expected) send(res, 200, { token: 'good-token' });
    else send(res, 401, { details: 'bad credentials' });
  }

  #tagsPage(url: URL, res: ServerResponse): void {
    const all = [...this.#tags.keys()].sort();
    const last = url.searchParams.get('last');
    const start = last ? all.indexOf(last) + 1 : 0;
    const page = all.slice(start, start + this.pageSize);
    if (start + this.pageSize < all.length) {
      res.setHeader(
        'link',
        `</v2/${this.repo}/tags/list?last=${page.at(-1)}&n=${this.pageSize}>; rel="next"`,
      );
    }
    send(res, 200, { name: this.repo, tags: page });
  }

  #manifest(reference: string, res: ServerResponse): void {
    const digest = reference.startsWith('sha256:') ? reference : this.#tags.get(reference);
    const manifest = digest ? this.#manifests.get(digest) : undefined;
    if (!manifest) {
      send(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN' }] });
      return;
    }
    if (!this.omitDigestHeader) res.setHeader('docker-content-digest', manifest.digest);
    res.setHeader('content-type', 'application/vnd.oci.image.manifest.v1+json');
    res.end(this.tamper === 'manifest' ? `${manifest.body} ` : manifest.body);
  }
}

function sha(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}
