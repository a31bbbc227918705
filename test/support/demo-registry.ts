import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { buildDemoApp, type DemoImage, pushImage } from './demo-app-image.ts';
import { type RegistryHandle, type RegistryOptions, startRegistry } from './registry-container.ts';

/**
 * Registry storage shared by every suite and kept across runs, in the checkout's `.glint/`
 * (ignored by git; delete it to reclaim the space), never in /tmp. The demo app's 106 MB base
 * layer then crosses the wire once per checkout: pushing to `demo-app` on a fresh registry finds
 * the blob already stored, and pushes to other repositories of that registry mount it from there.
 */
export function registryCacheDir(): string {
  const dir =
    process.env.GLINT_REGISTRY_CACHE ??
    fileURLToPath(new URL('../../.glint/registry-cache', import.meta.url));
  mkdirSync(dir, { recursive: true });
  return dir;
}

export type Authconfig = { username: string; password: string; serveraddress: string };
export type DemoRegistry = RegistryHandle & { authconfig: Authconfig | Record<string, never> };

/** A real registry on the shared storage, seeded with the demo app so later pushes are cheap. */
export async function startDemoRegistry(
  suite: string,
  opts: Pick<RegistryOptions, 'htpasswd'> & { login?: { username: string; password: string } } = {},
): Promise<DemoRegistry> {
  const handle = await startRegistry(suite, {
    storageDir: registryCacheDir(),
    ...(opts.htpasswd ? { htpasswd: opts.htpasswd } : {}),
  });
  const authconfig = opts.login ? { ...opts.login, serveraddress: handle.host } : {};
  const registry = { ...handle, authconfig };
  await pushDemoVersion(registry, 'demo-app', 'seed');
  return registry;
}

/** Builds a stamped demo-app version and pushes it to `<registry>/<repository>:<tag>`. */
export async function pushDemoVersion(
  registry: DemoRegistry,
  repository: string,
  version: string,
  opts: { revision?: string; stampVersion?: string } = {},
): Promise<DemoImage & { digest: string }> {
  const image = await buildDemoApp(version, { ...opts, repository: `${registry.host}/${repository}` });
  await pushImage(image.ref, registry.authconfig);
  const info = await new Docker().getImage(image.ref).inspect();
  const pinned = info.RepoDigests.find((d) => d.startsWith(`${registry.host}/${repository}@`));
  if (!pinned) throw new Error(`push of ${image.ref} left no repo digest`);
  return { ...image, digest: pinned.slice(pinned.indexOf('@') + 1) };
}

/**
 * Drops the local names of images under `host/` (only those: images are shared by content with
 * other suites and other people's containers, whose names must stay). Once an image has no name
 * left and no container uses it, the engine deletes it, so the next pull fetches it again.
 */
export async function forgetRegistryImages(host: string, only?: (name: string) => boolean): Promise<number> {
  const docker = new Docker();
  const images = await docker.listImages({ all: false });
  let removed = 0;
  for (const image of images) {
    const names = [...(image.RepoTags ?? []), ...(image.RepoDigests ?? [])].filter(
      (n) => n.startsWith(`${host}/`) && (only ? only(n) : true),
    );
    for (const name of names) {
      await docker
        .getImage(name)
        .remove()
        .then(() => removed++)
        .catch(() => undefined);
    }
  }
  return removed;
}
