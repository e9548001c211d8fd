// The store's public face: what the rest of Pipewright imports, and where it finds the database.
export * from './types';
export { openStore, maskPassword, normaliseEmail, type Store } from './store';
export { migrate, migrationsDir, readMigrations, type Migration } from './migrate';
export { startEmbeddedStore, type EmbeddedStore } from './embedded';
export type { ApiKey } from './apiKeys';

/** The port `pipewright dev` serves its embedded store on: next to a local PostgreSQL's 5432. */
export const DEV_STORE_PORT = 5433;

const DEFAULT_URL = `postgres://postgres@127.0.0.1:${DEV_STORE_PORT}/postgres`;

/** PIPEWRIGHT_DATABASE_URL, or the store `pipewright dev` serves. */
export function storeUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const url = env.PIPEWRIGHT_DATABASE_URL?.trim() || DEFAULT_URL;
  let protocol: string | undefined;
  try {
    protocol = new URL(url).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
    // The value is not echoed: a mistyped URL may still carry a password.
    throw new Error(
      'PIPEWRIGHT_DATABASE_URL must be a PostgreSQL URL of the form ' +
        'postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (or postgresql://...); ' +
        `it is set to something else${protocol ? ` (a ${protocol} URL)` : ''}`,
    );
  }
  return url;
}
