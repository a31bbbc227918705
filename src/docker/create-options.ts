import type { ContainerCreateOptions } from 'dockerode';
import { SERVICE_HOST } from '../config/index.ts';
import { GlintError } from '../errors/index.ts';
import { DockerErrorCode } from './error-codes.ts';
import { containerName, GLINT_LABELS, type InstanceSpec } from './instance-spec.ts';
import { computeSpecHash } from './spec-hash.ts';

const NAME_PART = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const IPV4 = /^(\d{1,3})(\.\d{1,3}){3}$/;
const RESERVED: Record<string, true> = Object.fromEntries(Object.values(GLINT_LABELS).map((l) => [l, true]));

function isPort(n: number | undefined): n is number {
  return Number.isInteger(n) && n! >= 1 && n! <= 65535;
}

function invalid(spec: InstanceSpec, why: string): GlintError {
  return new GlintError(DockerErrorCode.InvalidSpec, `instance ${spec.app}/${spec.instance}: ${why}`, {
    details: { app: spec.app, instance: spec.instance },
  });
}

function validate(spec: InstanceSpec): void {
  if (!NAME_PART.test(spec.app))
    throw invalid(spec, `app name '${spec.app}' cannot be part of a container name`);
  if (!NAME_PART.test(spec.instance))
    throw invalid(spec, `instance id '${spec.instance}' cannot be part of a container name`);
  if (!/@sha256:[0-9a-f]{64}$/.test(spec.image.ref)) {
    throw invalid(spec, `image '${spec.image.ref}' is not pinned by digest; resolve it first`);
  }
  if (!IPV4.test(spec.serviceAddress))
    throw invalid(spec, `service address '${spec.serviceAddress}' is not an IPv4 address`);
  if (!isPort(spec.containerPort)) {
    throw invalid(spec, `container port ${spec.containerPort} is not a port`);
  }
  if (spec.network === 'host' && !isPort(spec.hostPort))
    throw invalid(spec, `runs in the host's network but was given no host port (${spec.hostPort})`);
  const badEnv = Object.keys(spec.env).filter((k) => !ENV_NAME.test(k));
  if (badEnv.length > 0) throw invalid(spec, `env names ${badEnv.join(', ')} are not valid variable names`);
  const reserved = Object.keys(spec.labels).filter((k) => k in RESERVED);
  if (reserved.length > 0)
    throw invalid(spec, `labels ${reserved.join(', ')} are glint's own and cannot be set`);
}

/** The labels of DESIGN.md plus the spec's own; these are how glint recognises its containers. */
export function containerLabels(spec: InstanceSpec): Record<string, string> {
  const labels: Record<string, string> = {
    ...spec.labels,
    [GLINT_LABELS.managed]: 'true',
    [GLINT_LABELS.app]: spec.app,
    [GLINT_LABELS.instance]: spec.instance,
    [GLINT_LABELS.version]: spec.image.version,
    [GLINT_LABELS.digest]: spec.image.digest,
    [GLINT_LABELS.spec]: computeSpecHash(spec),
    [GLINT_LABELS.deployment]: spec.deploymentId ?? '',
  };
  if (spec.image.revision) labels[GLINT_LABELS.revision] = spec.image.revision;
  if (spec.network === 'host') labels[GLINT_LABELS.port] = String(spec.hostPort);
  else if (spec.addressMode === 'container') labels[GLINT_LABELS.port] = String(spec.containerPort);
  if (spec.config) {
    labels[GLINT_LABELS.configRevision] = String(spec.config.revision);
    labels[GLINT_LABELS.envFingerprint] = spec.config.fingerprint;
  }
  return labels;
}

/**
 * The engine's create request for an instance: created from the digest, app port published on
 * the host IP with an ephemeral host port (unless the node reaches instances at their container
 * IP, or the app runs in the host's network), `glint-lb` resolving to the address the node's
 * containers reach HAProxy at (what `{{service:x}}` references name), no restart policy (glint
 * heals, Docker must not race it), an init process so SIGTERM reaches the app, and the stop
 * timeout. Every container drops all capabilities and may gain no new privileges; the app's
 * declared `security` adds back capabilities, sets the user and a read-only root filesystem.
 * Nothing else reaches privileges (no privileged mode, mounts or devices; the host's network
 * only when the declaration says so, and then the app is told its port as `PORT`, over any
 * `PORT` of its env).
 */
export function buildCreateOptions(spec: InstanceSpec): ContainerCreateOptions {
  validate(spec);
  const hostNetwork = spec.network === 'host';
  const port = `${spec.containerPort}/tcp`;
  const env = hostNetwork ? { ...spec.env, PORT: String(spec.hostPort) } : spec.env;
  return {
    name: containerName(spec.app, spec.instance),
    Image: spec.image.ref,
    Env: Object.entries(env)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`),
    Labels: containerLabels(spec),
    ...(hostNetwork ? {} : { ExposedPorts: { [port]: {} } }),
    StopSignal: 'SIGTERM',
    StopTimeout: Math.max(1, Math.ceil(spec.stopTimeoutMs / 1000)),
    ...(spec.security?.user ? { User: spec.security.user } : {}),
    HostConfig: {
      SecurityOpt: ['no-new-privileges:true'],
      CapDrop: ['ALL'],
      ...(spec.security?.capAdd?.length ? { CapAdd: [...spec.security.capAdd] } : {}),
      ...(spec.security?.readOnlyRootFilesystem ? { ReadonlyRootfs: true } : {}),
      // Without a binding Docker starts no proxy process and adds no NAT rule for the container.
      ...(hostNetwork ? { NetworkMode: 'host' } : {}),
      ...(hostNetwork || spec.addressMode === 'container'
        ? {}
        : { PortBindings: { [port]: [{ HostIp: spec.hostIp, HostPort: '' }] } }),
      ExtraHosts: [`${SERVICE_HOST}:${spec.serviceAddress}`],
      RestartPolicy: { Name: 'no' },
      Init: true,
      ...(spec.resources.memoryBytes ? { Memory: spec.resources.memoryBytes } : {}),
      ...(spec.resources.nanoCpus ? { NanoCpus: spec.resources.nanoCpus } : {}),
    },
  };
}
