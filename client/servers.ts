// Finds or obtains the two real Temporal servers Pipewright runs on, for `pipewright dev`, the
// tests and the benchmark alike: the Temporal CLI's dev server and the time-skipping test server.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { TestWorkflowEnvironment, type DevServerConfig } from '@temporalio/testing';
import { JOURNEY_SEARCH_ATTRIBUTES } from '../workflows/searchAttributes';

export type ServerKind = 'dev-server' | 'test-server';

/** Versions built from the registries when the SDK cannot download its own. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEST_SERVER_VERSION = '1.38.0';

interface ServerSpec {
  label: string;
  envVar: string;
  onPath: string;
  cached: (cache: string) => string;
  /** Matches the executable the SDK's own download leaves in its folder. */
  downloaded: RegExp;
  build: (cache: string, log: Log) => Promise<void>;
  howToInstall: (cache: string) => string;
}

export type Log = (line: string) => void;

export function cacheDir(): string {
  return process.env.PIPEWRIGHT_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'pipewright');
}

const SPECS: Record<ServerKind, ServerSpec> = {
  'dev-server': {
    label: 'Temporal CLI (dev server)',
    envVar: 'TEMPORAL_CLI_PATH',
    onPath: 'temporal',
    cached: (cache) => join(cache, 'bin', 'temporal'),
    downloaded: /^temporal(-cli)?[^/]*$/,
    build: buildTemporalCli,
    howToInstall: (cache) =>
      `install the Temporal CLI (https://docs.temporal.io/cli) and put \`temporal\` on PATH, set TEMPORAL_CLI_PATH to it, ` +
      `or install Go and run: GOBIN=${join(cache, 'bin')} go install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`,
  },
  'test-server': {
    label: 'Temporal time-skipping test server',
    envVar: 'TEMPORAL_TEST_SERVER_PATH',
    onPath: 'temporal-test-server',
    cached: (cache) => join(cache, 'test-server', 'temporal-test-server'),
    downloaded: /^temporal-test-server[^/]*$/,
    build: buildTestServer,
    howToInstall: () =>
      'put `temporal-test-server` (from the Java SDK releases) on PATH, set TEMPORAL_TEST_SERVER_PATH to it, ' +
      `or install Java 17+ and Maven so Pipewright can build io.temporal:temporal-test-server:${TEST_SERVER_VERSION}`,
  },
};

const found = new Map<ServerKind, string>();

/**
 * The path of a server executable, obtained in this order: the path in its environment variable;
 * one on PATH or in the cache; the SDK's own download; a build from the package registries.
 * Otherwise throws, saying how to install it.
 */
export async function ensureServer(kind: ServerKind, log: Log = () => {}): Promise<string> {
  const known = found.get(kind);
  if (known) return known;
  const spec = SPECS[kind];
  const cache = cacheDir();

  const fromEnv = process.env[spec.envVar];
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`${spec.envVar}=${fromEnv} is not an executable file`);
    return remember(kind, fromEnv);
  }
  const existing = [findOnPath(spec.onPath), spec.cached(cache), findDownloaded(cache, kind)].find(
    (p): p is string => !!p && isExecutable(p),
  );
  if (existing) return remember(kind, existing);

  const failures: string[] = [];
  log(`${spec.label}: not found; trying the SDK's download`);
  try {
    await trySdkDownload(kind, cache);
    const downloaded = findDownloaded(cache, kind);
    if (downloaded) return remember(kind, downloaded);
    failures.push('the SDK download started a server but left no executable in the cache');
  } catch (err) {
    failures.push(`SDK download: ${firstLine(err)}`);
  }
  log(`${spec.label}: SDK download not possible here (${failures[0]}); building it from the package registries`);
  try {
    await spec.build(cache, log);
    if (isExecutable(spec.cached(cache))) return remember(kind, spec.cached(cache));
    failures.push('the build finished without producing an executable');
  } catch (err) {
    failures.push(`build: ${firstLine(err)}`);
  }
  throw new Error(`${spec.label} is not available (${failures.join('; ')}).\nTo fix: ${spec.howToInstall(cache)}`);
}

/**
 * Starts the dev server on 127.0.0.1, as `pipewright dev`, the end-to-end tests and the benchmark
 * all run it: SQLite in WAL mode (in a file when `dbFilename` is given, so state survives restarts),
 * with the journeys' search attributes registered.
 */
export async function startDevServer(
  options: Omit<DevServerConfig, 'type' | 'executable' | 'ip' | 'extraArgs'> = {},
  log: Log = () => {},
): Promise<TestWorkflowEnvironment> {
  const path = await ensureServer('dev-server', log);
  return startPatiently(() => TestWorkflowEnvironment.createLocal({
    server: {
      ...options,
      executable: { type: 'existing-path', path },
      ip: '127.0.0.1',
      searchAttributes: JOURNEY_SEARCH_ATTRIBUTES,
      extraArgs: ['--sqlite-pragma', 'journal_mode=WAL'],
    },
  }));
}

/**
 * The SDK gives a server 5 seconds to open its port. On a 2-core machine busy with other work (a
 * JVM starting beside a PGlite initdb) that is sometimes not enough, so a start that timed out is
 * tried again, on a fresh port, before giving up.
 */
export async function startPatiently<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= attempts || !/did not start within/.test(String((err as Error)?.message))) throw err;
    }
  }
}

function remember(kind: ServerKind, path: string): string {
  found.set(kind, path);
  return path;
}

export function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!;
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function findOnPath(name: string): string | undefined {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, name))
    .find(isExecutable);
}

function downloadDir(cache: string, kind: ServerKind): string {
  return join(cache, 'sdk-download', kind);
}

function findDownloaded(cache: string, kind: ServerKind): string | undefined {
  const dir = downloadDir(cache, kind);
  if (!existsSync(dir)) return undefined;
  return readdirSync(dir)
    .filter((name) => SPECS[kind].downloaded.test(name))
    .map((name) => join(dir, name))
    .find(isExecutable);
}

/** What a user with internet gets: the SDK fetches the server and starts it; we keep the file. */
async function trySdkDownload(kind: ServerKind, cache: string): Promise<void> {
  const executable = { type: 'cached-download' as const, downloadDir: downloadDir(cache, kind), ttl: 10 * 365 * 86_400_000 };
  mkdirSync(executable.downloadDir, { recursive: true });
  const env =
    kind === 'dev-server'
      ? await TestWorkflowEnvironment.createLocal({ server: { executable } })
      : await TestWorkflowEnvironment.createTimeSkipping({ server: { executable } });
  await env.teardown();
}

async function buildTemporalCli(cache: string, log: Log): Promise<void> {
  if (!findOnPath('go')) throw new Error('Go is not installed (needed to build the Temporal CLI)');
  await run(
    'go',
    ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`],
    { ...process.env, GOBIN: join(cache, 'bin') },
    `building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go (about 3 minutes on 2 cores the first time)`,
    log,
  );
}

async function buildTestServer(cache: string, log: Log): Promise<void> {
  for (const tool of ['java', 'mvn']) if (!findOnPath(tool)) throw new Error(`${tool} is not installed (needed for the test server)`);
  const dir = join(cache, 'test-server');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>pipewright.local</groupId>
  <artifactId>temporal-test-server-launcher</artifactId>
  <version>1</version>
  <dependencies>
    <dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>${TEST_SERVER_VERSION}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-nop</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
`,
  );
  await run(
    'mvn',
    ['-q', '-B', '-f', join(dir, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${join(dir, 'lib')}`, '-DincludeScope=runtime'],
    process.env,
    `fetching io.temporal:temporal-test-server:${TEST_SERVER_VERSION} with Maven`,
    log,
  );
  // The SDK runs the executable with "<port>" and stops it with a signal: exec, so the signal
  // reaches the JVM. Start-up flags make the JVM open its port sooner.
  const launcher = SPECS['test-server'].cached(cache);
  writeFileSync(
    launcher,
    `#!/bin/sh\nexec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx512m -cp '${join(dir, 'lib')}/*' io.temporal.testserver.TestServer "$@"\n`,
  );
  chmodSync(launcher, 0o755);
}

/** Runs a long install step, saying every 20 seconds that it is still going. */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv, what: string, log: Log): Promise<void> {
  const started = Date.now();
  log(`${what}...`);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const ticker = setInterval(() => log(`  still ${what.split(' (')[0]}: ${Math.round((Date.now() - started) / 1000)}s`), 20_000);
    child.on('error', (err) => {
      clearInterval(ticker);
      reject(err);
    });
    child.on('close', (code) => {
      clearInterval(ticker);
      if (code === 0) {
        log(`  done in ${Math.round((Date.now() - started) / 1000)}s`);
        resolve();
      } else reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output.slice(-2000)}`));
    });
  });
}
