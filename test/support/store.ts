// A store for one test file: PGlite in its own process (`pipewright store serve`), reached over TCP
// as a worker reaches it. (PGlite cannot load inside jest's module sandbox: it imports dynamically.)
import type { ChildProcess } from 'node:child_process';
import { openStore, type Store } from '../../store';
import { startPipewright, stop } from './cli';

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
