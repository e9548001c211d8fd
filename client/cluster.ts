// The production topology on one machine: the real Temporal server (several history shards, SQL
// visibility) on a throwaway PostgreSQL, with namespace `default` and Pipewright's search attributes.
// For `pipewright dev --cluster` and the tests that prove Pipewright beyond the dev server.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { msToTs } from '@temporalio/common/lib/time';
import { parse, stringify } from 'yaml';
import { STAGE } from '../workflows/searchAttributes';
import { ensureClusterServers, TEMPORAL_SERVER_VERSION, type ClusterServers } from './clusterServers';
import { freePort, freePortBelow } from './freePort';
import { startPostgres, withClient, type LocalPostgres } from './localPostgres';
import { watchParent, type Watchdog } from './parentWatchdog';
import { missingSearchAttributes, registerSearchAttributes } from './searchAttributes';
import { stopProcess } from './stopProcess';
import type { Log } from './servers';

const execFileAsync = promisify(execFile);

export interface LocalClusterOptions {
  /** History shards: fixed for the life of a cluster, so more than one proves nothing assumes one. */
  shards?: number;
  namespace?: string;
  log?: Log;
  /** How long the server may take to answer after it starts (it takes ~15 s on 2 cores). */
  readyTimeoutMs?: number;
  /** Serve the frontend over mutual TLS, as a self-hosted cluster reached over a network would. */
  tls?: ClusterTls;
}

/** PEM files: the server's certificate for `serverName`, a client certificate, and the CA that signed both. */
export interface ClusterTls {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  serverName: string;
}

export interface LocalCluster {
  /** The frontend's gRPC address, for TEMPORAL_ADDRESS. */
  address: string;
  namespace: string;
  /** No Web UI comes with the server binary (it is a separate program); kept for when one does. */
  uiAddress?: string;
  /** The PostgreSQL superuser's URL (no password: trust authentication on 127.0.0.1). */
  postgresUrl: string;
  shards: number;
  /** Present when the frontend speaks mutual TLS: what a client needs to connect. */
  tls?: ClusterTls;
  /** The server's process (all four services run in it) and PostgreSQL's postmaster: for the bench's CPU figures. */
  pids(): { server?: number; postgres?: number };
  /** Config and logs; deleted by stop(). */
  dataDir: string;
  stop(): Promise<void>;
}

const SYSTEM_NAMESPACE = 'temporal-system';
// Membership ports are stored in a smallint column: above it the server starts and then fails to join.
const MEMBERSHIP_PORT_LIMIT = 32_768;
const SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;

export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const { shards = 4, namespace = 'default', log = () => {}, readyTimeoutMs = 120_000 } = options;
  const tools = await ensureClusterServers(log);
  const dataDir = await mkdtemp(join(tmpdir(), 'pipewright-cluster-'));
  const serverLog = join(dataDir, 'temporal-server.log');
  // Undone in reverse order on stop() or on a failed start.
  const undo: (() => Promise<unknown>)[] = [() => rm(dataDir, { recursive: true, force: true })];
  const unwind = async () => {
    // Emptied as it goes, so a second stop() does nothing.
    for (let step = undo.pop(); step; step = undo.pop()) await step().catch(() => undefined);
  };
  try {
    const started = Date.now();
    const postgres = await startPostgres({ stopWithParent: true });
    undo.push(() => postgres.stop());
    const password = randomBytes(16).toString('hex');
    await createTemporalUser(postgres.url, password);
    await setUpDatabases(tools, postgres, password, dataDir);
    log(`cluster: PostgreSQL and schemas ready in ${seconds(started)}`);

    const ports = await choosePorts();
    writeConfig(tools, dataDir, { shards, postgresPort: postgres.port, password, ports, tls: options.tls });
    const server = startServer(tools.server, dataDir, serverLog);
    const watchdog: Watchdog = watchParent({ killGroups: [server.pid!], remove: [dataDir] });
    undo.push(() => stopServer(server, watchdog));

    const address = `127.0.0.1:${ports.frontend.grpc}`;
    const connection = await waitUntilServing({ address, tls: options.tls }, server, readyTimeoutMs);
    try {
      await ensureNamespace(connection, namespace);
      await registerSearchAttributes(connection, namespace);
      await waitForSearchAttributes(connection, namespace);
    } finally {
      await connection.close();
    }
    log(`cluster: Temporal server answering on ${address} with ${shards} shards, ${seconds(started)} after start`);
    return {
      address,
      namespace,
      postgresUrl: postgres.url,
      shards,
      tls: options.tls,
      pids: () => ({ server: server.pid, postgres: postgres.pid() }),
      dataDir,
      stop: unwind,
    };
  } catch (err) {
    const tail = lastLines(serverLog, 30);
    await unwind();
    throw new Error(`the local Temporal cluster did not start: ${(err as Error).message}${tail ? `\nlast lines of the server's log:\n${tail}` : ''}`);
  }
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function lastLines(file: string, n: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

/** The server's own role, as the server's docs set it up; superuser so the schema tool may create its databases. */
async function createTemporalUser(url: string, password: string): Promise<void> {
  await withClient(url, (client) => client.query(`create user temporal with password '${password}' superuser`));
}

/** The persistence and visibility databases, created and migrated by the server's own schema tool. */
async function setUpDatabases(tools: ClusterServers, postgres: LocalPostgres, password: string, dataDir: string): Promise<void> {
  const toolLog = join(dataDir, 'sql-tool.log');
  for (const [database, schema] of [['temporal', 'temporal'], ['temporal_visibility', 'visibility']] as const) {
    const common = ['--plugin', 'postgres12', '--endpoint', '127.0.0.1', '--port', String(postgres.port), '--user', 'temporal', '--database', database];
    const steps = [['create-database'], ['setup-schema', '-v', '0.0'], ['update-schema', '-d', join(tools.moduleDir, 'schema', 'postgresql', 'v12', schema, 'versioned')]];
    for (const step of steps) {
      try {
        // The password through the environment, so it is not in the process list.
        const { stdout, stderr } = await execFileAsync(tools.sqlTool, [...common, ...step], { env: { ...process.env, SQL_PASSWORD: password }, maxBuffer: 16 * 1024 * 1024 });
        writeFileSync(toolLog, `$ temporal-sql-tool ... ${step.join(' ')} (${database})\n${stdout}${stderr}`, { flag: 'a' });
      } catch (err) {
        const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
        throw new Error(`temporal-sql-tool ${step[0]} on ${database} failed:\n${`${stdout}${stderr}`.trim().split('\n').slice(-15).join('\n')}`);
      }
    }
  }
}

interface ServicePorts {
  grpc: number;
  membership: number;
}
type Ports = Record<(typeof SERVICES)[number], ServicePorts> & { frontendHttp: number; metrics: number };

async function choosePorts(): Promise<Ports> {
  const ports: Partial<Ports> = { frontendHttp: await freePort(), metrics: await freePort() };
  for (const service of SERVICES) ports[service] = { grpc: await freePort(), membership: await freePortBelow(MEMBERSHIP_PORT_LIMIT) };
  return ports as Ports;
}

type Yaml = Record<string, unknown>;
const yamlAt = (node: unknown, ...path: string[]): Yaml => {
  let at = node;
  for (const key of path) {
    if (typeof at !== 'object' || at === null || !(key in at)) throw new Error(`the server module's sample config has no ${path.join('.')}: is it the module at ${TEMPORAL_SERVER_VERSION}?`);
    at = (at as Yaml)[key];
  }
  return at as Yaml;
};

/**
 * The module's own PostgreSQL sample config (`config/development-postgres12.yaml`) with this
 * cluster's ports, database and shards, and its dynamic config beside it, so what runs is what the
 * Temporal project ships for this setup, not a config of ours that drifts from it.
 */
function writeConfig(tools: ClusterServers, dataDir: string, settings: { shards: number; postgresPort: number; password: string; ports: Ports; tls?: ClusterTls }): void {
  const { ports } = settings;
  const configDir = join(dataDir, 'config');
  mkdirSync(join(configDir, 'dynamicconfig'), { recursive: true });
  const config = parse(readFileSync(join(tools.moduleDir, 'config', 'development-postgres12.yaml'), 'utf8')) as Yaml;
  const persistence = yamlAt(config, 'persistence');
  persistence.numHistoryShards = settings.shards;
  for (const store of ['postgres-default', 'postgres-visibility']) {
    const sql = yamlAt(persistence, 'datastores', store, 'sql');
    sql.connectAddr = `127.0.0.1:${settings.postgresPort}`;
    sql.password = settings.password;
  }
  const global = yamlAt(config, 'global');
  // pprof on a fixed port would collide with a second cluster; it is for debugging the server itself.
  delete global.pprof;
  yamlAt(global, 'metrics', 'prometheus').listenAddress = `127.0.0.1:${ports.metrics}`;
  for (const service of SERVICES) {
    const rpc = yamlAt(config, 'services', service, 'rpc');
    rpc.grpcPort = ports[service].grpc;
    rpc.membershipPort = ports[service].membership;
  }
  yamlAt(config, 'services', 'frontend', 'rpc').httpPort = ports.frontendHttp;
  yamlAt(config, 'clusterMetadata', 'clusterInformation', 'active').rpcAddress = `127.0.0.1:${ports.frontend.grpc}`;
  if (settings.tls) {
    const { caFile, serverCertFile, serverKeyFile, clientCertFile, clientKeyFile, serverName } = settings.tls;
    // Clients must present a certificate from the CA; the server's own system workers are clients too.
    global.tls = {
      frontend: { server: { certFile: serverCertFile, keyFile: serverKeyFile, requireClientAuth: true, clientCaFiles: [caFile] } },
      systemWorker: { certFile: clientCertFile, keyFile: clientKeyFile, client: { serverName, rootCaFiles: [caFile] } },
    };
  }
  const dynamicFile = join(configDir, 'dynamicconfig', 'development-sql.yaml');
  yamlAt(config, 'dynamicConfigClient').filepath = dynamicFile;
  writeFileSync(join(configDir, 'development.yaml'), stringify(config));

  const dynamic = (parse(readFileSync(join(tools.moduleDir, 'config', 'dynamicconfig', 'development-sql.yaml'), 'utf8')) ?? {}) as Yaml;
  dynamic['component.nexusoperations.callback.endpoint.template'] = [{ value: `http://127.0.0.1:${ports.frontendHttp}/namespaces/{{.NamespaceName}}/nexus/callback` }];
  // A new namespace and its search attributes reach every service at the next refresh (10 s by
  // default); a second makes the cluster usable right after its start.
  dynamic['system.namespaceCacheRefreshInterval'] = [{ value: '1s' }];
  writeFileSync(dynamicFile, stringify(dynamic));
}

/** In a process group of its own: a Ctrl-C must reach Pipewright, which stops its worker before the server. */
function startServer(binary: string, dataDir: string, logFile: string): ChildProcess {
  const out = openSync(logFile, 'a');
  try {
    const child = spawn(binary, ['--root', dataDir, '--config', 'config', '--env', 'development', 'start'], {
      cwd: dataDir,
      detached: true,
      stdio: ['ignore', out, out],
    });
    child.unref();
    return child;
  } finally {
    closeSync(out);
  }
}

async function stopServer(server: ChildProcess, watchdog: Watchdog): Promise<void> {
  watchdog.release();
  await stopProcess(server, 15_000);
}

/** The SDK's TLS options for a client of the cluster. */
export function clientTls(tls: ClusterTls | undefined): TLSConfig | undefined {
  if (!tls) return undefined;
  return {
    serverNameOverride: tls.serverName,
    serverRootCACertificate: readFileSync(tls.caFile),
    clientCertPair: { crt: readFileSync(tls.clientCertFile), key: readFileSync(tls.clientKeyFile) },
  };
}

/** Until the frontend answers for the system namespace, which the server creates as it starts. */
async function waitUntilServing(target: { address: string; tls?: ClusterTls }, server: ChildProcess, timeoutMs: number): Promise<Connection> {
  const { address } = target;
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  while (Date.now() < deadline) {
    if (server.exitCode !== null || server.signalCode !== null) throw new Error(`temporal-server exited (${server.exitCode ?? server.signalCode}) before it answered`);
    try {
      const connection = await Connection.connect({ address, tls: clientTls(target.tls), connectTimeout: 2_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: SYSTEM_NAMESPACE });
        return connection;
      } catch (err) {
        await connection.close();
        throw err;
      }
    } catch (err) {
      lastError = (err as Error).message;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  throw new Error(`temporal-server did not answer on ${address} within ${timeoutMs / 1000} s (${lastError})`);
}

const GRPC_ALREADY_EXISTS = 6;

async function ensureNamespace(connection: Connection, namespace: string): Promise<void> {
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('3 days') });
  } catch (err) {
    if ((err as { code?: number }).code !== GRPC_ALREADY_EXISTS) throw err;
  }
  // Registered in the database; usable once the frontend's namespace cache has it.
  await eventually(() => connection.workflowService.describeNamespace({ namespace }), `namespace ${namespace}`);
}

/** SQL visibility maps each attribute to a column through the namespace: wait until a query can use them. */
async function waitForSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  await eventually(async () => {
    const missing = await missingSearchAttributes(connection, namespace);
    if (missing.length) throw new Error(`not yet listed: ${missing.join(', ')}`);
    await connection.workflowService.listWorkflowExecutions({ namespace, query: `${STAGE.name} = 'working'`, pageSize: 1 });
  }, `search attributes on ${namespace}`);
}

async function eventually<T>(attempt: () => Promise<T>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what} not usable after ${timeoutMs / 1000} s: ${(err as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
}

/** What a worker and a client need on a cluster, shaped like the SDK's TestWorkflowEnvironment. */
export interface ClusterConnections {
  client: Client;
  nativeConnection: NativeConnection;
  namespace: string;
  close(): Promise<void>;
}

export async function connectToCluster(cluster: Pick<LocalCluster, 'address' | 'namespace' | 'tls'>): Promise<ClusterConnections> {
  const tls = clientTls(cluster.tls);
  const connection = await Connection.connect({ address: cluster.address, tls });
  const nativeConnection = await NativeConnection.connect({ address: cluster.address, tls }).catch(async (err: unknown) => {
    await connection.close();
    throw err;
  });
  return {
    client: new Client({ connection, namespace: cluster.namespace }),
    nativeConnection,
    namespace: cluster.namespace,
    async close() {
      await nativeConnection.close();
      await connection.close();
    },
  };
}
