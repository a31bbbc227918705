/**
 * The two calls the container-side probes need from a container runtime. DockerRuntime
 * provides both; declaring them here keeps health free of Docker.
 */
export type ContainerExec = {
  exec(
    containerId: string,
    command: string[],
    call?: { signal?: AbortSignal },
  ): Promise<{ exitCode: number; output: string }>;
};

export type ContainerHealthSource = {
  inspect(
    containerId: string,
    call?: { signal?: AbortSignal },
  ): Promise<{ state: string; health: { status: string; lastExitCode?: number } } | undefined>;
};
