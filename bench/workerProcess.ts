// The second worker of `npm run bench -- --server cluster`: what `pipewright worker` runs
// (worker/main.ts, configured from the environment), compiled with the bench so it is never a stale build.
import { runWorker } from '../worker/main';

runWorker().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
