// PGlite, running in a worker thread (store/pgliteWorker.js says why), seen from the caller's thread
// as an engine that runs one wire-protocol message at a time.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { packageRoot } from './packageRoot';

export interface Engine {
  /** Runs one frontend protocol message; the backend's replies go to `onData` before it resolves. */
  exec(message: Uint8Array, onData: (data: Uint8Array) => void): Promise<{ inTransaction: boolean }>;
  close(): Promise<void>;
}

type FromWorker =
  | { type: 'ready' }
  | { type: 'failed'; error: { message: string } }
  | { type: 'data'; id: number; data: Uint8Array }
  | { type: 'done'; id: number; inTransaction: boolean }
  | { type: 'error'; id: number; error: { message: string } }
  | { type: 'closed' };

interface Running {
  onData: (data: Uint8Array) => void;
  resolve: (result: { inTransaction: boolean }) => void;
  reject: (error: Error) => void;
}

/** Starts PGlite on `dataDir` (in memory without one). A new folder takes seconds: it runs initdb. */
export async function startPGliteEngine(options: { dataDir?: string } = {}): Promise<Engine> {
  const worker = new Worker(join(packageRoot(), 'store', 'pgliteWorker.js'), { workerData: { dataDir: options.dataDir } });
  const running = new Map<number, Running>();
  let nextId = 1;
  let stopped: Error | undefined;
  let closed: (() => void) | undefined;

  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (reply: FromWorker) => {
      switch (reply.type) {
        case 'ready':
          return resolve();
        case 'failed':
          return reject(new Error(`PGlite did not start: ${reply.error.message}`));
        case 'data':
          return running.get(reply.id)?.onData(reply.data);
        case 'done':
          running.get(reply.id)?.resolve({ inTransaction: reply.inTransaction });
          return running.delete(reply.id);
        case 'error':
          running.get(reply.id)?.reject(new Error(reply.error.message));
          return running.delete(reply.id);
        case 'closed':
          return closed?.();
      }
    });
    const fail = (error: Error) => {
      stopped ??= error;
      reject(error);
      for (const pending of running.values()) pending.reject(error);
      running.clear();
      closed?.();
    };
    worker.on('error', (error) => fail(new Error(`PGlite worker failed: ${error.message}`)));
    worker.on('exit', (code) => fail(new Error(`PGlite worker exited (code ${code})`)));
  });
  try {
    await ready;
  } catch (error) {
    await worker.terminate();
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    exec(message, onData) {
      if (stopped) return Promise.reject(stopped);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        running.set(id, { onData, resolve, reject });
        worker.postMessage({ type: 'exec', id, message });
      });
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        if (stopped) return resolve();
        // PGlite flushes its data folder on close, so the worker is asked, not terminated.
        closed = resolve;
        worker.postMessage({ type: 'close' });
      }).then(() => worker.terminate().then(() => undefined));
      return closing;
    },
  };
}
