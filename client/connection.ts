import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig, type ClientConnectConfig } from '@temporalio/envconfig';
import { openStore, storeUrlFromEnv, type Store } from '../store';

/**
 * Where Temporal is, from Temporal's own settings: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS_*, or a profile in TEMPORAL_CONFIG_FILE. With nothing set this is
 * localhost:7233, namespace "default": the dev server `pipewright dev` starts.
 */
export function temporalSettings(): ClientConnectConfig & { taskQueue: string } {
  const settings = loadClientConnectConfig();
  return { ...settings, taskQueue: process.env.PIPEWRIGHT_TASK_QUEUE || 'pipewright' };
}

export async function connectClient(settings = temporalSettings()): Promise<Client> {
  const address = settings.connectionOptions.address ?? 'localhost:7233';
  let connection: Connection;
  try {
    connection = await Connection.connect(settings.connectionOptions);
  } catch (err) {
    throw new Error(
      `cannot reach Temporal at ${address}: ${(err as Error).message}\n` +
        'Start one with `pipewright dev`, or point TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE, TEMPORAL_API_KEY) at yours.',
    );
  }
  return new Client({ connection, namespace: settings.namespace });
}

/** The store in PIPEWRIGHT_DATABASE_URL, by default the one `pipewright dev` serves; migrated on open. */
export async function connectStore(): Promise<Store> {
  const url = storeUrlFromEnv();
  try {
    return await openStore(url);
  } catch (err) {
    const shown = url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
    throw new Error(
      `cannot reach the store at ${shown}: ${(err as Error).message}\n` +
        'Start one with `pipewright dev`, or point PIPEWRIGHT_DATABASE_URL at your PostgreSQL (postgres://user:password@host:5432/db).',
    );
  }
}
