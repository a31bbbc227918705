import { inspect } from 'node:util';

/** What may be shown about an env: names, the fingerprint, where it came from. Never values. */
export type EnvDescription = {
  names: string[];
  secretNames: string[];
  fingerprint: string;
  revision: number;
  referencedServices: string[];
};

/**
 * A resolved env ready for `docker create`. `env` holds secret values, so the object
 * serialises (JSON, pino, console, util.inspect) to its description only: passing it to a
 * logger or an API response by mistake can't leak a secret.
 */
export class ResolvedEnv {
  readonly env: Readonly<Record<string, string>>;
  readonly secretNames: readonly string[];
  readonly fingerprint: string;
  /** The etcd revision config, secrets and services were read at. */
  readonly revision: number;
  readonly referencedServices: readonly string[];

  constructor(fields: {
    env: Record<string, string>;
    secretNames: string[];
    fingerprint: string;
    revision: number;
    referencedServices: string[];
  }) {
    this.env = Object.freeze({ ...fields.env });
    this.secretNames = Object.freeze([...fields.secretNames]);
    this.fingerprint = fields.fingerprint;
    this.revision = fields.revision;
    this.referencedServices = Object.freeze([...fields.referencedServices]);
  }

  describe(): EnvDescription {
    return describeEnv(this);
  }

  toJSON(): EnvDescription {
    return this.describe();
  }

  [inspect.custom](): EnvDescription {
    return this.describe();
  }
}

export function describeEnv(resolved: ResolvedEnv): EnvDescription {
  return {
    names: Object.keys(resolved.env).sort(),
    secretNames: [...resolved.secretNames],
    fingerprint: resolved.fingerprint,
    revision: resolved.revision,
    referencedServices: [...resolved.referencedServices],
  };
}
