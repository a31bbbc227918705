/**
 * Stable codes of the errors the Docker room raises. Callers branch on these (never on
 * messages); the API returns them as `error.code`.
 */
export const DockerErrorCode = {
  /** The requested tag does not exist in the repository. */
  TagNotFound: 'TagNotFound',
  /** The repository itself does not exist in the registry. */
  RepositoryNotFound: 'RepositoryNotFound',
  /** A digest was asked for that the registry does not hold. */
  ManifestNotFound: 'ManifestNotFound',
  /** No tag satisfies the `latest` policy. */
  NoStampedVersion: 'NoStampedVersion',
  /** The network path to the registry failed or it answered 5xx (transient). */
  RegistryUnreachable: 'RegistryUnreachable',
  /** The registry refused the credentials, or wants some and none are configured. */
  RegistryAuthFailed: 'RegistryAuthFailed',
  /** The registry did not answer in time (transient). */
  RegistryTimeout: 'RegistryTimeout',
  /** The registry answered something glint does not understand. */
  RegistryProtocol: 'RegistryProtocol',
  /** The image's version label differs from the requested version. */
  StampMismatch: 'StampMismatch',
  /** The image lacks the version or revision label. */
  StampMissing: 'StampMissing',
  /** A request that is neither a version, an image:tag, a digest nor 'latest'. */
  InvalidImageRequest: 'InvalidImageRequest',
  /** Pulling the image failed for good (not found, refused). */
  PullFailed: 'PullFailed',
  /** Pulling failed in a way that may pass (network, engine busy) (transient). */
  PullInterrupted: 'PullInterrupted',
  /** The pull did not finish within its time bound. */
  PullTimeout: 'PullTimeout',
  /** The engine socket does not answer (transient). */
  EngineUnreachable: 'EngineUnreachable',
  /** A command run inside a container did not finish within its bound (transient). */
  ExecTimeout: 'ExecTimeout',
  /** The engine refused a call. */
  EngineError: 'EngineError',
  /** The engine lacks the image a container is to be created from: pull it first. */
  ImageNotPresent: 'ImageNotPresent',
  /** No container with this id or name. */
  ContainerNotFound: 'ContainerNotFound',
  /** A container with the instance's name already exists. */
  ContainerNameConflict: 'ContainerNameConflict',
  /** The container does not carry glint.managed=true; glint never stops or removes it. */
  NotManaged: 'NotManaged',
  /** The instance spec cannot be turned into a container. */
  InvalidSpec: 'InvalidSpec',
  /** The container publishes no host port for the app port. */
  PortNotPublished: 'PortNotPublished',
  /** The container has no IP on any network of its engine (addressMode 'container'). */
  ContainerAddressUnknown: 'ContainerAddressUnknown',
  /** Every port of the engine's host-port range is held by an instance in the host's network. */
  HostPortsExhausted: 'HostPortsExhausted',
  /** The engine shows no address its containers reach HAProxy at; the endpoint must declare one. */
  ServiceAddressUnknown: 'ServiceAddressUnknown',
  /** A call named a Docker endpoint the declaration does not have. */
  UnknownNode: 'UnknownNode',
} as const;

export type DockerErrorCode = (typeof DockerErrorCode)[keyof typeof DockerErrorCode];
