import type { EtcdClient } from './etcd-client.ts';

/**
 * Resolves once the stored deployment `app/id` is written after `modRevision` (or deleted), or
 * when `signal` aborts. Any daemon can wait this way: the leader writes every change of a
 * deployment record to etcd. A watch error also resolves: the caller reads the record again.
 */
export function nextDeploymentChange(
  client: EtcdClient,
  app: string,
  id: string,
  modRevision: number,
  signal: AbortSignal,
): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  const key = client.keys.deployment(app, id);
  return new Promise<void>((resolve) => {
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', settle);
      void handle.cancel().catch(() => undefined);
      resolve();
    };
    const handle = client.watchRange({ start: key, end: `${key}\0` }, modRevision + 1, {
      onEvents: (events) => {
        if (events.length > 0) settle();
      },
      onCompacted: settle,
      onError: settle,
    });
    signal.addEventListener('abort', settle, { once: true });
  });
}
