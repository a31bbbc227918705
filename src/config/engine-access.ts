import { readFileSync } from 'node:fs';
import { GlintError } from '../errors/index.ts';
import type { DockerEndpoint } from './docker-schema.ts';
import { ConfigErrorCode } from './error-codes.ts';

/** What proves glint's identity to an engine: TLS files read in, or the ssh-agent to ask. */
export type EngineAccess = {
  tls?: { ca: Buffer; cert: Buffer; key: Buffer };
  sshAgent?: string;
};

type AccessDeclaration = Pick<DockerEndpoint, 'name' | 'url' | 'tls'>;

/**
 * Reads an endpoint's TLS files and finds the ssh-agent (SSH_AUTH_SOCK) for ssh:// ones.
 * Synchronous: it runs once per engine when the daemon builds its engines, before any work.
 */
export function readEngineAccess(
  endpoint: AccessDeclaration,
  env: NodeJS.ProcessEnv = process.env,
): EngineAccess {
  if (endpoint.url && new URL(endpoint.url).protocol === 'ssh:') {
    const agent = env.SSH_AUTH_SOCK;
    if (!agent)
      throw new GlintError(
        ConfigErrorCode.SecretMissing,
        `docker endpoint ${endpoint.name} is reached over ssh, which authenticates through an ssh-agent, but SSH_AUTH_SOCK is not set; start ssh-agent, ssh-add the key of ${endpoint.url}, and export SSH_AUTH_SOCK before starting glint`,
      );
    return { sshAgent: agent };
  }
  if (!endpoint.tls) return {};
  const read = (field: 'ca' | 'cert' | 'key') => readTlsFile(endpoint.name, field, endpoint.tls![field]);
  return { tls: { ca: read('ca'), cert: read('cert'), key: read('key') } };
}

function readTlsFile(endpoint: string, field: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new GlintError(
      ConfigErrorCode.SecretMissing,
      `cannot read ${path} (${why}), given as tls.${field} of docker endpoint ${endpoint}; fix docker.endpoints[name=${endpoint}].tls.${field} or put the file there`,
    );
  }
}
