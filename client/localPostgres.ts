// A throwaway PostgreSQL server from the machine's own packages (Debian's postgresql): initdb into a
// temp folder, pg_ctl start on a free port, and everything deleted on stop. The store's tests prove
// it against the real thing with it, and the local Temporal cluster keeps its state in one.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from './freePort';
import { watchParent, type Watchdog } from './parentWatchdog';

const run = promisify(execFile);

export interface LocalPostgres {
  /** The superuser's URL (trust authentication, no password), database `postgres`. */
  url: string;
  port: number;
  /** The postmaster's process ID (its backends are its children), for measuring what it costs. */
  pid(): number | undefined;
  stop(): Promise<void>;
}

export interface LocalPostgresOptions {
  /** Stop the server and delete its folder if this process dies without calling stop(). */
  stopWithParent?: boolean;
}

export async function startPostgres(options: LocalPostgresOptions = {}): Promise<LocalPostgres> {
  const bin = await serverBinaries();
  // initdb refuses to run as root, so root runs the server as the `postgres` user the Debian
  // package creates, in a folder that user owns.
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? await postgresUser() : undefined;
  const argv = (tool: string, args: string[]) => (owner ? ['runuser', '-u', 'postgres', '--', join(bin, tool), ...args] : [join(bin, tool), ...args]);
  const command = (tool: string, args: string[]) => {
    const [file, ...rest] = argv(tool, args);
    return run(file!, rest);
  };

  const dir = await mkdtemp(join(tmpdir(), 'pipewright-pg-'));
  const data = join(dir, 'data');
  const pgCtl = (args: string[]) => command('pg_ctl', ['-D', data, ...args]);
  // In a session of its own (setsid), so a Ctrl-C in the terminal reaches the process that started
  // it, which stops its clients first, and not the server under them.
  const pgCtlStart = (args: string[]) => {
    const [file, ...rest] = argv('pg_ctl', ['-D', data, ...args]);
    const setsid = ['/usr/bin/setsid', '/bin/setsid'].find((path) => existsSync(path));
    return setsid ? run(setsid, [file!, ...rest]) : run(file!, rest);
  };
  let watchdog: Watchdog | undefined;
  try {
    if (owner) await chown(dir, owner.uid, owner.gid);
    // --no-sync: the folder is deleted after use, so waiting for its files to reach disk is waste.
    await command('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync']);
    if (options.stopWithParent) watchdog = watchParent({ commands: [argv('pg_ctl', ['-D', data, '-m', 'immediate', 'stop'])], remove: [dir] });
    const port = await startOnFreePort(pgCtlStart, dir);
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      port,
      pid: () => postmasterPid(data),
      async stop() {
        watchdog?.release();
        try {
          await pgCtl(['-w', '-m', 'fast', 'stop']);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    watchdog?.release();
    await pgCtl(['-m', 'immediate', 'stop']).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** The first line of postmaster.pid, while the server runs. */
function postmasterPid(data: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Makes sure a PostgreSQL server can be started: on a fresh Debian machine, as root, this installs
 * Debian's postgresql package (about a minute); elsewhere it says how to.
 */
export async function ensurePostgresBinaries(log: (line: string) => void): Promise<string> {
  const found = await serverBinaries().catch((err: Error) => err);
  if (typeof found === 'string') return found;
  const apt = await run('which', ['apt-get']).then(() => true, () => false);
  if (process.getuid?.() !== 0 || !apt) throw found;
  log("PostgreSQL server binaries not found; installing Debian's postgresql package (apt-get)...");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-q'], { env, maxBuffer: 64 * 1024 * 1024 });
  await run('apt-get', ['install', '-y', '-q', 'postgresql'], { env, maxBuffer: 64 * 1024 * 1024 });
  return serverBinaries();
}

/** The bin folder of the newest PostgreSQL the Debian packages installed. */
async function serverBinaries(): Promise<string> {
  const root = '/usr/lib/postgresql';
  const versions = (await readdir(root).catch(() => [] as string[])).filter((name) => /^\d+(\.\d+)?$/.test(name));
  versions.sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(root, version, 'bin');
    const tools = await readdir(bin).catch(() => [] as string[]);
    if (tools.includes('initdb') && tools.includes('pg_ctl')) return bin;
  }
  throw new Error(
    `No PostgreSQL server binaries (initdb, pg_ctl) under ${root}/*/bin. ` +
      "Install Debian's postgresql package: apt-get install -y postgresql",
  );
}

async function postgresUser(): Promise<{ uid: number; gid: number }> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    throw new Error(
      "Running as root, but there is no 'postgres' user to run the server as (initdb refuses root). " +
        "Install Debian's postgresql package, which creates it: apt-get install -y postgresql",
    );
  }
}

/**
 * A port is free when we ask and may be taken by the time the server binds it (another test file
 * starting its own server), so a bind failure is retried on a new port.
 */
async function startOnFreePort(pgCtl: (args: string[]) => Promise<unknown>, dir: string): Promise<number> {
  const log = join(dir, 'log');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      await pgCtl(['-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, '-l', log, 'start']);
      return port;
    } catch (error) {
      const text = await readFile(log, 'utf8').catch(() => '');
      if (attempt < 3 && /could not bind|address already in use/i.test(text)) continue;
      throw new Error(`pg_ctl start failed: ${(error as Error).message}\n${text.slice(-2000)}`);
    }
  }
}

/** One connection for a few statements (creating a database, a role), closed afterwards. */
export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client(url);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
