// Schema migrations: numbered plain-SQL files, applied once per database, in order.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool, PoolClient } from 'pg';
import { packageRoot } from './packageRoot';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Every Pipewright process takes this advisory lock before it looks at schema_migrations, so two
 * workers starting against one fresh database do not both apply a file (or race on `create table`,
 * which Postgres does not make safe even with `if not exists`). Any fixed number works, as long as
 * every version of Pipewright uses the same one.
 */
export const MIGRATION_LOCK = 7_301_451_520_001;

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** store/migrations of the package: tsc does not copy .sql into dist/, so it is read from the source tree. */
export function migrationsDir(): string {
  return join(packageRoot(), 'store', 'migrations');
}

export function readMigrations(dir: string = migrationsDir()): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .map((file) => {
      const match = FILE_NAME.exec(file);
      // A misnamed file would otherwise be skipped silently and its schema never created.
      if (!match) throw new Error(`Migration ${join(dir, file)} is not named NNNN_name.sql (lower case, digits, _)`);
      return { version: Number(match[1]), name: match[2]!, sql: readFileSync(join(dir, file), 'utf8') };
    })
    .sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) {
      throw new Error(`Two migrations in ${dir} share version ${migrations[i]!.version}`);
    }
  }
  return migrations;
}

/** Applies the migrations this database has not seen yet; returns their versions, in order. */
export async function migrate(pool: Pool, migrations: Migration[] = readMigrations()): Promise<number[]> {
  const client = await pool.connect();
  try {
    const known = await locked(client, async () => {
      await client.query(`create table if not exists schema_migrations (
        version int primary key,
        name text not null,
        applied_at timestamptz not null default now()
      )`);
      const { rows } = await client.query<{ version: number }>('select version from schema_migrations');
      return new Set(rows.map((row) => row.version));
    });
    const applied: number[] = [];
    for (const migration of migrations) {
      if (known.has(migration.version)) continue;
      // Checked again under the lock: another process may have applied it since we looked.
      const done = await locked(client, async () => {
        const { rowCount } = await client.query('select 1 from schema_migrations where version = $1', [migration.version]);
        if (rowCount) return false;
        await client.query(migration.sql);
        await client.query('insert into schema_migrations (version, name) values ($1, $2)', [migration.version, migration.name]);
        return true;
      });
      if (done) applied.push(migration.version);
    }
    client.release();
    return applied;
  } catch (error) {
    // The connection may be mid-transaction or broken: drop it rather than hand it to the pool.
    client.release(true);
    throw error;
  }
}

/** One transaction holding the migration lock, which Postgres releases at commit or rollback. */
async function locked<T>(client: PoolClient, work: () => Promise<T>): Promise<T> {
  await client.query('begin');
  try {
    await client.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    const result = await work();
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}
