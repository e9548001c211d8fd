// The Temporal servers `npm run bench` measures, each with what it costs: the dev server (one process,
// SQLite in WAL mode, as `pipewright dev` runs it) and the local cluster (temporal-server with 4
// history shards, its persistence and visibility on PostgreSQL, as `pipewright dev --cluster` runs it).
import { join } from 'node:path';
import { Client as PgClient } from 'pg';
import type { LocalCluster } from '../client/cluster';
import { connectToCluster } from '../client/cluster';
import { startDevServer } from '../client/servers';
import type { BenchServer, Persistence } from './leadRun';
import { findServerPid, processCpuMs, processTreeCpuMs, SERVER_LOG, sqliteBytes } from './measure';

export interface RunningBenchServer extends BenchServer {
  stop(): Promise<void>;
}

/** `storePostgres`: the postmaster of the PostgreSQL the store is on, when it is not PGlite in the bench's own process. */
export async function devBenchServer(dataDir: string, storePostgres?: number): Promise<RunningBenchServer> {
  const dbFilename = join(dataDir, 'temporal.sqlite');
  // The same storage `pipewright dev` uses: a SQLite file in WAL mode.
  const env = await startDevServer({ dbFilename, log: SERVER_LOG }, console.error);
  const serverPid = findServerPid(dbFilename);
  return {
    client: env.client,
    nativeConnection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    // SQLite works inside the server's process: its CPU is the server's.
    cpu: () => ({ temporal: serverPid ? processCpuMs(serverPid) : NaN, postgres: storePostgres ? processTreeCpuMs(storePostgres) : NaN }),
    persistence: async () => ({ bytes: sqliteBytes(dbFilename).total }),
    settleMs: 0,
    // Stopped after its run, and again by the bench's cleanup when a run failed first.
    stop: once(() => env.teardown()),
  };
}

function once(stop: () => Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => (stopping ??= stop());
}

/** The server's databases, as the schema tool created them (client/cluster.ts). */
const TEMPORAL_DATABASES = ['temporal', 'temporal_visibility'];

/**
 * The cluster, with PostgreSQL's own counters for what the server writes: its two databases'
 * transactions, rows inserted, updated or deleted, and size, and the WAL (which covers every database
 * on that PostgreSQL, the store's too when it is there).
 */
export async function clusterBenchServer(cluster: LocalCluster): Promise<RunningBenchServer> {
  const connections = await connectToCluster(cluster);
  const pg = new PgClient(cluster.postgresUrl);
  await pg.connect();
  const { server, postgres } = cluster.pids();
  return {
    client: connections.client,
    nativeConnection: connections.nativeConnection,
    namespace: connections.namespace,
    cpu: () => ({ temporal: server ? processCpuMs(server) : NaN, postgres: postgres ? processTreeCpuMs(postgres) : NaN }),
    async persistence(): Promise<Persistence> {
      const { rows } = await pg.query<{ transactions: string; rows: string; bytes: string; wal: string }>(
        `select sum(xact_commit + xact_rollback) as transactions, sum(tup_inserted + tup_updated + tup_deleted) as rows,
                sum(pg_database_size(datname)) as bytes, pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0') as wal
           from pg_stat_database where datname = any($1)`,
        [TEMPORAL_DATABASES],
      );
      const row = rows[0]!;
      return { bytes: Number(row.bytes), transactions: Number(row.transactions), rowsWritten: Number(row.rows), walBytes: Number(row.wal) };
    },
    // Backends flush their statistics at most once a second while busy, and within 10 s once idle.
    settleMs: 11_000,
    async stop() {
      await pg.end();
      await connections.close();
    },
  };
}
