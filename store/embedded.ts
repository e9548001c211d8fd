// The store `pipewright dev` and the tests run without installing PostgreSQL: PGlite (Postgres
// compiled to WASM) served on a TCP port by pglite-socket, so the application talks to it through
// the same `pg` pool it uses for a real server.
//
// Both packages ship CommonJS builds, so no import() workaround is needed to load them; PGlite
// itself is loaded in a worker thread (see pgliteWorker.js), and only pglite-socket here.
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { startPGliteEngine, type Engine } from './pgliteEngine';
import { useSessionQueue } from './sessionQueue';

export interface EmbeddedStore {
  /** postgres://postgres@HOST:PORT/postgres: no password, as PGlite does not check one. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Starts PGlite (on disk in `dataDir` when given, else in memory) and serves it on host:port
 * (127.0.0.1 and any free port by default). The first open of a new data folder runs initdb, which
 * takes seconds.
 */
export async function startEmbeddedStore(
  options: { dataDir?: string; port?: number; host?: string } = {},
): Promise<EmbeddedStore> {
  const engine = await startPGliteEngine(options.dataDir === undefined ? {} : { dataDir: options.dataDir });
  try {
    return await serveEngine(engine, options);
  } catch (error) {
    await engine.close();
    throw error;
  }
}

/** Serves `engine` on a TCP port; close() stops serving and closes the engine. */
export async function serveEngine(engine: Engine, options: { port?: number; host?: string } = {}): Promise<EmbeddedStore> {
  const host = options.host ?? '127.0.0.1';
  // The server reads only `waitReady` from its db; every query goes through the SessionQueue.
  const db = { waitReady: Promise.resolve() } as unknown as PGlite;
  // The default of one connection drops a pool's second connection; a pool per process (worker,
  // CLI, intake) needs many.
  const server = new PGLiteSocketServer({ db, host, port: options.port ?? 0, maxConnections: 100 });
  useSessionQueue(server, engine);
  let port = options.port ?? 0;
  server.addEventListener('listening', (event) => {
    // The port the OS chose when asked for 0, which the server keeps private.
    const detail = (event as CustomEvent<{ port?: number }>).detail;
    if (detail?.port) port = detail.port;
  });
  await server.start();
  let closing: Promise<void> | undefined;
  return {
    url: `postgres://postgres@${host.includes(':') ? `[${host}]` : host}:${port}/postgres`,
    port,
    close() {
      closing ??= (async () => {
        await server.stop();
        await engine.close();
      })();
      return closing;
    },
  };
}
