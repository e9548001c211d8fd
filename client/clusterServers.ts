// Finds or builds what a real Temporal cluster on PostgreSQL needs: the `temporal-server` binary, the
// SQL schema tool, and the server module's own schemas and sample config. Same version as the server
// the dev server embeds, so a journey behaves the same on both.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheDir, findOnPath, isExecutable, run, type Log } from './servers';

const execFileAsync = promisify(execFile);

/** The Temporal server the dev server's CLI (v1.5.1) embeds: the cluster runs the same one. */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
const MODULE = 'go.temporal.io/server';

export interface ClusterServers {
  /** `temporal-server`: `go.temporal.io/server/cmd/server`. */
  server: string;
  /** `temporal-sql-tool`: `go.temporal.io/server/cmd/tools/sql`, creates and migrates the databases. */
  sqlTool: string;
  /** The module's folder: `schema/postgresql/v12/...` and `config/...` come from here. */
  moduleDir: string;
}

interface Tool {
  label: string;
  envVar: string;
  /** The name on PATH and in the cache. */
  name: string;
  /** The package `go install` builds; the binary it leaves is named after the last path element. */
  goPackage: string;
}

const TOOLS = {
  server: { label: 'Temporal server', envVar: 'TEMPORAL_SERVER_PATH', name: 'temporal-server', goPackage: `${MODULE}/cmd/server` },
  sqlTool: { label: 'Temporal SQL schema tool', envVar: 'TEMPORAL_SQL_TOOL_PATH', name: 'temporal-sql-tool', goPackage: `${MODULE}/cmd/tools/sql` },
} satisfies Record<'server' | 'sqlTool', Tool>;

let found: ClusterServers | undefined;

/**
 * The two binaries (from their environment variable, PATH or the cache, else built with `go install`
 * into the cache) and the module folder (TEMPORAL_SERVER_MODULE_DIR, else Go's module cache, fetched
 * with `go mod download` when missing). Throws, saying what to install, when it cannot.
 */
export async function ensureClusterServers(log: Log = () => {}): Promise<ClusterServers> {
  if (found) return found;
  const cache = cacheDir();
  const binaries: Partial<Record<keyof typeof TOOLS, string>> = {};
  for (const [key, tool] of Object.entries(TOOLS) as [keyof typeof TOOLS, Tool][]) {
    const fromEnv = process.env[tool.envVar];
    if (fromEnv) {
      if (!isExecutable(fromEnv)) throw new Error(`${tool.envVar}=${fromEnv} is not an executable file`);
      binaries[key] = fromEnv;
      continue;
    }
    binaries[key] = [findOnPath(tool.name), cachedPath(cache, tool)].find((p): p is string => !!p && isExecutable(p));
  }
  const missing = (Object.keys(TOOLS) as (keyof typeof TOOLS)[]).filter((key) => !binaries[key]);
  if (missing.length > 0) {
    await buildTools(cache, missing.map((key) => TOOLS[key]), log);
    for (const key of missing) binaries[key] = cachedPath(cache, TOOLS[key]);
  }
  const moduleDir = await ensureModuleDir(log);
  found = { server: binaries.server!, sqlTool: binaries.sqlTool!, moduleDir };
  return found;
}

function cachedPath(cache: string, tool: Tool): string {
  return join(cache, 'bin', tool.name);
}

function howToInstall(cache: string): string {
  const packages = Object.values(TOOLS).map((t) => `${t.goPackage}@${TEMPORAL_SERVER_VERSION}`).join(' ');
  return (
    `install Go 1.22+ (https://go.dev/dl/) so Pipewright can build them, or build them elsewhere with ` +
    `\`go install ${packages}\` and put the binaries \`server\` and \`sql\` here as ${join(cache, 'bin', 'temporal-server')} ` +
    `and ${join(cache, 'bin', 'temporal-sql-tool')} (or set TEMPORAL_SERVER_PATH and TEMPORAL_SQL_TOOL_PATH to them)`
  );
}

/**
 * `go install` names a binary after its package folder (`server`, `sql`): too generic for a shared
 * bin folder, so it builds into a folder of its own and the binaries are renamed into the cache.
 */
async function buildTools(cache: string, tools: Tool[], log: Log): Promise<void> {
  if (!findOnPath('go')) {
    throw new Error(`${tools.map((t) => t.label).join(' and ')} not found, and Go is not installed to build them.\nTo fix: ${howToInstall(cache)}`);
  }
  const staging = join(cache, `go-build-${TEMPORAL_SERVER_VERSION}`);
  mkdirSync(staging, { recursive: true });
  mkdirSync(join(cache, 'bin'), { recursive: true });
  try {
    await run(
      'go',
      ['install', ...tools.map((t) => `${t.goPackage}@${TEMPORAL_SERVER_VERSION}`)],
      { ...process.env, GOBIN: staging },
      `building ${tools.map((t) => t.name).join(' and ')} ${TEMPORAL_SERVER_VERSION} with Go (about 4 minutes on 2 cores the first time)`,
      log,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\nTo fix: ${howToInstall(cache)}`);
  }
  for (const tool of tools) {
    const built = join(staging, tool.goPackage.split('/').pop()!);
    if (!isExecutable(built)) throw new Error(`go install finished but left no ${built}.\nTo fix: ${howToInstall(cache)}`);
    renameSync(built, cachedPath(cache, tool));
  }
  rmSync(staging, { recursive: true, force: true });
}

/** The files a cluster needs from the module: checked so a partial folder fails here, not mid-start. */
const MODULE_FILES = [
  'schema/postgresql/v12/temporal/versioned',
  'schema/postgresql/v12/visibility/versioned',
  'config/development-postgres12.yaml',
  'config/dynamicconfig/development-sql.yaml',
];

async function ensureModuleDir(log: Log): Promise<string> {
  const fromEnv = process.env.TEMPORAL_SERVER_MODULE_DIR;
  if (fromEnv) return checkedModuleDir(fromEnv, 'TEMPORAL_SERVER_MODULE_DIR');
  const go = findOnPath('go');
  const modCache = go
    ? (await execFileAsync('go', ['env', 'GOMODCACHE'])).stdout.trim()
    : process.env.GOMODCACHE || join(process.env.GOPATH || join(homedir(), 'go'), 'pkg', 'mod');
  const dir = join(modCache, `${MODULE}@${TEMPORAL_SERVER_VERSION}`);
  if (existsSync(dir)) return checkedModuleDir(dir, 'the Go module cache');
  const fix =
    `install Go and run \`go mod download ${MODULE}@${TEMPORAL_SERVER_VERSION}\`, or set TEMPORAL_SERVER_MODULE_DIR to a ` +
    `checkout of https://github.com/temporalio/temporal at ${TEMPORAL_SERVER_VERSION}`;
  if (!go) throw new Error(`the Temporal server's schemas and sample config (module ${MODULE}@${TEMPORAL_SERVER_VERSION}) are not in ${modCache}.\nTo fix: ${fix}`);
  log(`${MODULE}@${TEMPORAL_SERVER_VERSION} is not in ${modCache} (binaries found elsewhere); downloading it for its schemas and config`);
  try {
    // Outside a Go module, `go mod download` takes a path@version and fetches just that module.
    await execFileAsync('go', ['mod', 'download', `${MODULE}@${TEMPORAL_SERVER_VERSION}`], { cwd: homedir(), maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    throw new Error(`go mod download ${MODULE}@${TEMPORAL_SERVER_VERSION} failed: ${(err as Error).message}\nTo fix: ${fix}`);
  }
  return checkedModuleDir(dir, 'the Go module cache');
}

function checkedModuleDir(dir: string, from: string): string {
  const absent = MODULE_FILES.filter((file) => !existsSync(join(dir, file)));
  if (absent.length > 0) throw new Error(`${dir} (from ${from}) is not the Temporal server module at ${TEMPORAL_SERVER_VERSION}: it lacks ${absent.join(', ')}`);
  return dir;
}
