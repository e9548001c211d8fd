// A store for one test file: PGlite in its own process (`pipewright store serve`), reached over TCP
// as a worker reaches it. (PGlite cannot load inside jest's module sandbox: it imports dynamically.)
//
// Also the servers a store test runs against both ways: PGlite in this process, served over TCP,
// and a throwaway real PostgreSQL server (test/store.test.ts, test/assignment.test.ts).
import type { ChildProcess } from 'node:child_process';
import { Client } from 'pg';
import { withClient } from '../../client/localPostgres';
import { openStore, startEmbeddedStore, type EmbeddedStore, type Store } from '../../store';
import { startPipewright, stop } from './cli';
import { startPostgres } from './postgres';

export interface TestStore {
  store: Store;
  url: string;
  close(): Promise<void>;
}

export async function embeddedTestStore(): Promise<TestStore> {
  const { child, output } = await startPipewright(['store', 'serve', '--port', '0', '--stop-with-parent'], {}, /store: serving \S+/);
  const url = /store: serving (\S+)/.exec(output())![1]!;
  const store = await openStore(url);
  return {
    store,
    url,
    close: async () => {
      await store.close();
      await stop(child as ChildProcess);
    },
  };
}

export interface Server {
  url: string;
  /** Another, empty database on the same kind of server. */
  freshDatabase(): Promise<string>;
  stop(): Promise<void>;
}

export async function pgliteServer(): Promise<Server> {
  const started: EmbeddedStore[] = [await startEmbeddedStore({})];
  return {
    url: started[0]!.url,
    // One PGlite is one database, so an empty one is a new instance.
    async freshDatabase() {
      const fresh = await startEmbeddedStore({});
      started.push(fresh);
      return fresh.url;
    },
    stop: async () => {
      await Promise.all(started.map((s) => s.close()));
    },
  };
}

export async function postgresServer(): Promise<Server> {
  const server = await startPostgres();
  let databases = 0;
  return {
    url: server.url,
    async freshDatabase() {
      const name = `fresh_${++databases}`;
      await withClient(server.url, (client) => client.query(`create database ${name}`));
      const url = new URL(server.url);
      url.pathname = `/${name}`;
      return url.toString();
    },
    stop: () => server.stop(),
  };
}

/** Both backends, for describe.each: the store must behave the same on each. */
export const STORE_BACKENDS: [string, () => Promise<Server>][] = [
  ['PGlite served over TCP', pgliteServer],
  ['a real PostgreSQL server', postgresServer],
];

export { withClient };
