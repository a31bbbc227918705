import type { LbApp, LbModel } from './lb-model.ts';

/** Characters HAProxy accepts in proxy and server names. */
const NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
const HOST_NAME = /^[A-Za-z0-9*.-]{1,253}$/;
const BIND = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/;
const PATH = /^\/[^\s"'\\#]*$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const STATUS_LIST = /^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/;

export type ModelProblem = { app?: string; field: string; message: string };

/**
 * Checks what HAProxy would otherwise reject late or misread (a space in a path splits a
 * keyword; a duplicate id fails `add server`). Returns every problem, each naming its app.
 */
export function validateLbModel(model: LbModel): ModelProblem[] {
  const problems: ModelProblem[] = [];
  if (model.sharedFrontend) checkBind(problems, undefined, 'sharedFrontend.bind', model.sharedFrontend.bind);
  for (const address of model.serviceAddresses ?? [])
    if (!IPV4.test(address))
      problems.push({ field: 'serviceAddresses', message: `"${address}" is not an IPv4 address` });
  const seen = new Set<string>();
  for (const app of model.apps) {
    if (seen.has(app.name)) problems.push({ app: app.name, field: 'name', message: 'appears twice' });
    seen.add(app.name);
    problems.push(...validateApp(model, app));
  }
  return problems;
}

function validateApp(model: LbModel, app: LbApp): ModelProblem[] {
  const problems: ModelProblem[] = [];
  const add = (field: string, message: string) => problems.push({ app: app.name, field, message });
  if (!NAME.test(app.name)) add('name', 'may hold only letters, digits, "_", ".", ":" and "-"');
  if (!app.frontend && !app.hosts?.length) add('frontend', 'needs a frontend bind or at least one host');
  if (app.frontend) checkBind(problems, app.name, 'frontend.bind', app.frontend.bind);
  if (app.hosts?.length && !model.sharedFrontend)
    add('hosts', 'routing by host needs a shared frontend (sharedFrontend.bind)');
  for (const host of app.hosts ?? []) if (!HOST_NAME.test(host)) add('hosts', `"${host}" is not a host name`);
  if (app.check.type === 'http') {
    if (!PATH.test(app.check.path))
      add('check.path', `"${app.check.path}" must start with "/" and hold no spaces`);
    if (app.check.expectStatus !== undefined && !STATUS_LIST.test(app.check.expectStatus))
      add('check.expectStatus', `"${app.check.expectStatus}" must look like 200-399 or 200,204`);
  } else if (app.check.type !== 'tcp') {
    add('check.type', `"${String((app.check as { type: unknown }).type)}" must be http or tcp`);
  }
  for (const field of ['intervalMs', 'rise', 'fall', 'timeoutMs'] as const)
    if (!Number.isInteger(app.check[field]) || app.check[field] < 1)
      add(`check.${field}`, 'must be a positive integer');
  const names = new Set<string>();
  const ids = new Set<number>();
  for (const server of app.servers) {
    const field = `servers.${server.name}`;
    if (!NAME.test(server.name)) add(field, 'name may hold only letters, digits, "_", ".", ":" and "-"');
    if (names.has(server.name)) add(field, 'appears twice');
    if (ids.has(server.id)) add(field, `id ${server.id} is used by another server`);
    if (!Number.isInteger(server.id) || server.id < 1) add(field, 'id must be a positive integer');
    if (!Number.isInteger(server.port) || server.port < 1 || server.port > 65535)
      add(field, 'port is out of range');
    if (!/^[A-Za-z0-9.:-]+$/.test(server.address)) add(field, `"${server.address}" is not an address`);
    names.add(server.name);
    ids.add(server.id);
  }
  return problems;
}

function checkBind(problems: ModelProblem[], app: string | undefined, field: string, bind: string): void {
  const port = Number(BIND.exec(bind)?.[2] ?? 0);
  if (port < 1 || port > 65535)
    problems.push({
      ...(app ? { app } : {}),
      field,
      message: `"${bind}" must be host:port with a port from 1 to 65535`,
    });
}
