// The second worker of `npm run bench -- --server cluster`: what `pipewright worker` runs
// (worker/main.ts, configured from the environment), compiled with the bench so it is never a stale
// build. The SDK's INFO lines (worker state changes) would interleave with the bench's progress bars.
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { runWorker } from '../worker/main';

Runtime.install({ logger: new DefaultLogger('WARN') });
runWorker().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
