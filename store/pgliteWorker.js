// The PGlite engine in a worker thread (started by pgliteEngine.ts).
//
// Plain JavaScript, read from the package root rather than compiled: a worker must be a file Node
// can load as is, from the sources (tests) and from dist/ alike. Two reasons PGlite lives here
// rather than in the caller's thread:
//  - Its WASM runs every query synchronously; in the thread of `pipewright dev` it would stall the
//    Temporal worker, the intake server and every other socket for as long as each query takes.
//  - Its CommonJS build calls import() internally, which Jest's module sandbox rejects
//    (electric-sql/pglite issue #224); a worker thread runs outside that sandbox.
//
// Messages in:  { type: 'exec', id, message: Uint8Array }  one frontend protocol message
//               { type: 'close' }
// Messages out: { type: 'ready' } | { type: 'failed', error }
//               { type: 'data', id, data: Uint8Array }     backend bytes, as PGlite produces them
//               { type: 'done', id, inTransaction } | { type: 'error', id, error }
//               { type: 'closed' }
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require('@electric-sql/pglite');

const describe = (error) => ({ message: error instanceof Error ? error.message : String(error) });

async function main() {
  let db;
  try {
    db = await PGlite.create(workerData.dataDir ? { dataDir: workerData.dataDir } : {});
  } catch (error) {
    parentPort.postMessage({ type: 'failed', error: describe(error) });
    return;
  }
  // One message at a time, in arrival order: the caller's queue decides the order.
  let previous = Promise.resolve();
  parentPort.on('message', (request) => {
    previous = previous.then(() => handle(db, request));
  });
  parentPort.postMessage({ type: 'ready' });
}

async function handle(db, request) {
  if (request.type === 'close') {
    await db.close().catch(() => undefined);
    parentPort.postMessage({ type: 'closed' });
    parentPort.close();
    return;
  }
  const { id, message } = request;
  try {
    await db.runExclusive(() =>
      db.execProtocolRawStream(message, {
        onRawData: (data) => {
          // `data` is a view into the WASM heap; posting it would clone the whole heap.
          const copy = data.slice();
          parentPort.postMessage({ type: 'data', id, data: copy }, [copy.buffer]);
        },
      }),
    );
    parentPort.postMessage({ type: 'done', id, inTransaction: db.isInTransaction() });
  } catch (error) {
    parentPort.postMessage({ type: 'error', id, error: describe(error) });
  }
}

void main();
