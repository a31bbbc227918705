/**
 * The load balancer's model: everything `haproxy.cfg` is rendered from. The model is the
 * source of truth; HAProxy's runtime state is brought in line with it, and every runtime
 * change is written back into it so a later reload keeps it.
 */

export const ServerStates = { ready: 'ready', drain: 'drain', maint: 'maint' } as const;
export type ServerState = (typeof ServerStates)[keyof typeof ServerStates];

export type LbServer = {
  /** The instance id; HAProxy's server name. */
  name: string;
  address: string;
  port: number;
  /** HAProxy's numeric server id (`id` keyword); stable across renders, see assignServerIds. */
  id: number;
  state: ServerState;
};

/** How often HAProxy checks a server and how many results in a row change its mind. */
export type LbCheckTiming = {
  intervalMs: number;
  rise: number;
  fall: number;
  timeoutMs: number;
};

/**
 * HAProxy's own check of an app's servers. `http` asks a path and passes on L7OK; `tcp` only
 * connects and passes on L4OK, for apps that do not speak HTTP on a health path (glint's own
 * probe then decides readiness).
 */
export type LbHealthCheck =
  | ({
      type: 'http';
      path: string;
      /** HAProxy status list, e.g. `200-399` or `200,204`. Defaults to `200-399`. */
      expectStatus?: string;
    } & LbCheckTiming)
  | ({ type: 'tcp' } & LbCheckTiming);

/** The check result HAProxy reports when a check of that type passed. */
export function passingCheckStatus(check: LbHealthCheck): 'L7OK' | 'L4OK' {
  return check.type === 'http' ? 'L7OK' : 'L4OK';
}

export type LbApp = {
  name: string;
  /** A dedicated frontend for this app, `host:port`. */
  frontend?: { bind: string };
  /** Host names routed to this app on the shared frontend. */
  hosts?: string[];
  /**
   * HAProxy may resend a POST, PUT, PATCH or DELETE to another instance when the first one
   * died with it (the app's writes are idempotent). Off, only reads are retried.
   */
  retryWrites?: boolean;
  check: LbHealthCheck;
  drainTimeoutMs: number;
  servers: LbServer[];
};

export type LbTimeouts = {
  connectMs: number;
  clientMs: number;
  serverMs: number;
  httpRequestMs: number;
  httpKeepAliveMs: number;
  queueMs: number;
};

export type LbModel = {
  /** Folder holding haproxy.cfg, the sockets and the server-state file. */
  runDir: string;
  /** Bounds how long an old worker may linger after a reload. */
  hardStopAfterMs: number;
  timeouts: LbTimeouts;
  apps: LbApp[];
  /** One port routing by Host header to the apps that declare `hosts`. */
  sharedFrontend?: { bind: string };
  /**
   * Addresses of this machine that containers reach HAProxy at (each Docker endpoint's, known
   * to its containers as `glint-lb`): every app frontend listens on its port there too, so
   * `{{service:x}}` reaches x from inside a container.
   */
  serviceAddresses?: readonly string[];
};

export const DEFAULT_TIMEOUTS: LbTimeouts = {
  connectMs: 2_000,
  clientMs: 30_000,
  serverMs: 30_000,
  httpRequestMs: 10_000,
  httpKeepAliveMs: 10_000,
  queueMs: 10_000,
};

export type LbPaths = {
  config: string;
  candidateConfig: string;
  previousConfig: string;
  adminSocket: string;
  masterSocket: string;
  serverState: string;
};

export function lbPaths(runDir: string): LbPaths {
  return {
    config: `${runDir}/haproxy.cfg`,
    candidateConfig: `${runDir}/haproxy.cfg.next`,
    previousConfig: `${runDir}/haproxy.cfg.prev`,
    adminSocket: `${runDir}/admin.sock`,
    masterSocket: `${runDir}/master.sock`,
    serverState: `${runDir}/server-state`,
  };
}

export const backendName = (app: string): string => `be_${app}`;
export const frontendName = (app: string): string => `fe_${app}`;
export const SHARED_FRONTEND = 'fe_glint_shared';
export const UNKNOWN_HOST_BACKEND = 'be_glint_unknown_host';

export function findApp(model: LbModel, app: string): LbApp | undefined {
  return model.apps.find((a) => a.name === app);
}
