/**
 * The app a deployment belongs to, read from its id (`<app>-<yyyymmdd>T<hhmmss>-<hex>`, as the
 * rollout engine names them), so `/v1/deployments/:id` needs no index across apps.
 */
export function appOfDeploymentId(id: string): string {
  return id.replace(/-\d{8}T\d{6}-[0-9a-f]{4}$/, '');
}
