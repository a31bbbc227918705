import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, rmdirSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { namespacePath, removeNamespaceLink } from './namespace-link.ts';
import { waitFor } from './wait-for.ts';

const run = promisify(execFile);

/**
 * Every second engine this harness starts is written down here before anything of it exists,
 * one file per claimed /24 (named by its third octet, so creating the file claims the subnet
 * against concurrent runs on this machine). A crashed run's engines are found again from these
 * files: namespace, link, data folder, cgroup parent, and the test process that owned them. The
 * folder is on /run, which goes at reboot together with the namespaces and links it describes.
 */
const ENGINE_RECORDS_DIR = '/run/glint-test-engines';

/** The name prefix only this harness uses: namespaces, host links, folders and cgroups. */
export const ENGINE_NAME_PREFIX = 'gt2-';

export type EngineRecord = {
  /** Namespace name, cgroup parent and the host link's stem. */
  name: string;
  hostLink: string;
  /** Third octet of the claimed 10.213.x.0/24; the record's file name. */
  octet: number;
  runId: string;
  suite: string;
  /** The test process that started the engine, and its start time (pids are reused). */
  ownerPid: number;
  ownerStartTime: string;
  /** Holds the data root, exec root, pidfile, log and config of its dockerd. */
  root: string;
};

function recordPath(octet: number): string {
  return join(ENGINE_RECORDS_DIR, `${octet}.json`);
}

/** Writes the record only if no other holds its subnet; false when one does. */
export async function claimRecord(record: EngineRecord): Promise<boolean> {
  await mkdir(ENGINE_RECORDS_DIR, { recursive: true, mode: 0o700 });
  try {
    await writeFile(recordPath(record.octet), JSON.stringify(record), { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (the state); a zombie has ended.
    return fields[0] === 'Z' ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

/**
 * Processes of the engine: those in its network namespace (dockerd, containerd, shims, port
 * proxies, the registry relay) and those in its cgroup parent (the containers' processes, each in
 * a network namespace of its own).
 */
export function engineProcesses(name: string): number[] {
  let namespaceLink: string | undefined;
  try {
    namespaceLink = `net:[${statSync(namespacePath(name)).ino}]`;
  } catch {
    namespaceLink = undefined;
  }
  const found: number[] = [];
  for (const pid of pids()) {
    try {
      if (namespaceLink && readlinkSync(`/proc/${pid}/ns/net`) === namespaceLink) {
        found.push(pid);
        continue;
      }
      if (readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`/${name}/`)) found.push(pid);
    } catch {
      // Ended while being looked at.
    }
  }
  return found;
}

/** SIGKILLs `targets` and resolves once every one has ended. */
export async function killProcesses(targets: number[]): Promise<void> {
  for (const pid of targets) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await waitFor(() => (targets.every((pid) => processStartTime(pid) === undefined) ? true : undefined), {
    timeoutMs: 30_000,
    intervalMs: 50,
    what: `processes ${targets.join(', ')} to end after SIGKILL`,
  });
}

/** The dockerd of the pidfile, if that pid still runs that engine's dockerd. */
export function dockerdOf(root: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(root, 'dockerd.pid'), 'utf8').trim());
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes(join(root, 'data')) && processStartTime(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Mount points under `root` (a killed dockerd leaves its data root, overlays and netns files mounted). */
function mountsUnder(root: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) =>
      (line.split(' ')[4] ?? '').replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))),
    )
    .filter((point) => point === root || point.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length);
}

function cgroupMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => / - cgroup2? /.test(line))
    .map((line) => line.split(' ')[4] ?? '');
}

function removeCgroupTree(dir: string): void {
  let entries: string[];
  try {
    entries = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return;
  }
  for (const entry of entries) removeCgroupTree(join(dir, entry));
  rmdirSync(dir);
}

/**
 * Removes everything of one engine, in the order that lets each step succeed: its dockerd (by
 * pidfile) and every other process, the mounts under its folder, the folder, its cgroups, the
 * link and namespace, then the record. Each step finds what is already gone fine, so a second
 * call, or one for an engine half made, does what is left; failures are collected and thrown
 * together once every step was tried.
 */
export async function removeEngineRemains(
  record: Pick<EngineRecord, 'name' | 'hostLink' | 'octet' | 'root'>,
) {
  // A record is the only thing that names what gets killed and removed: never act on one that
  // does not name this harness's own things.
  if (![record.name, record.hostLink, basename(record.root)].every((n) => n.startsWith(ENGINE_NAME_PREFIX)))
    throw new Error(`refusing to remove ${JSON.stringify(record)}: not named ${ENGINE_NAME_PREFIX}*`);
  const failures: string[] = [];
  const attempt = async (what: string, step: () => Promise<unknown> | unknown) => {
    try {
      await step();
    } catch (err) {
      failures.push(`${what}: ${(err as Error).message}`);
    }
  };
  await attempt('killing its processes', () =>
    killProcesses(
      [...new Set([dockerdOf(record.root), ...engineProcesses(record.name)])].filter(
        (pid): pid is number => pid !== undefined,
      ),
    ),
  );
  for (const point of mountsUnder(record.root))
    await attempt(`unmounting ${point}`, () => run('umount', ['-l', point]));
  await attempt(`removing ${record.root}`, () => rm(record.root, { recursive: true, force: true }));
  for (const mount of cgroupMounts())
    await attempt(`removing cgroup ${mount}/${record.name}`, () =>
      removeCgroupTree(join(mount, record.name)),
    );
  await attempt('removing its link and namespace', () =>
    removeNamespaceLink({ namespace: record.name, hostLink: record.hostLink }),
  );
  await attempt('removing its record', () => rm(recordPath(record.octet), { force: true }));
  if (failures.length > 0)
    throw new Error(`second engine ${record.name} left remains: ${failures.join('; ')}`);
}

/**
 * Removes second engines whose test process has ended (a crashed or interrupted run), and with
 * `runId` every engine of that run (its tests are over). Engines of other runs still going on
 * this machine are left alone. Without the records folder (never used, or not root) there is
 * nothing to do.
 */
export async function sweepSecondEngines(opts: { runId?: string } = {}): Promise<string[]> {
  let files: string[];
  try {
    files = (await readdir(ENGINE_RECORDS_DIR)).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  const swept: string[] = [];
  for (const file of files) {
    let record: EngineRecord;
    try {
      record = JSON.parse(await readFile(join(ENGINE_RECORDS_DIR, file), 'utf8')) as EngineRecord;
    } catch {
      // Being written by a starting engine, or gone already.
      continue;
    }
    const ownerGone = processStartTime(record.ownerPid) !== record.ownerStartTime;
    if (!ownerGone && record.runId !== opts.runId) continue;
    await removeEngineRemains(record);
    swept.push(record.name);
  }
  return swept;
}
