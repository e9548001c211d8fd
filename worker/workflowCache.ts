// How many journeys a worker keeps in memory between their workflow tasks. A journey out of the
// cache costs the worker nothing while it waits; when its timer fires or an event arrives, the
// worker replays its history (its last run only: long journeys continue as new) and goes on. So
// the cache bounds the worker's memory however many journeys wait, and only needs to hold the
// journeys active at once. The SDK's own default grows with the V8 heap limit (2,310 on a
// 24 GiB machine), which lets a worker with thousands of waiting journeys grow past 1 GiB.

/** Measured by `npm run bench:scale` (README: Speed and scale). */
export const DEFAULT_WORKFLOW_CACHE = 1_000;

export function workflowCacheSize(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.PIPEWRIGHT_WORKFLOW_CACHE?.trim();
  if (!raw) return DEFAULT_WORKFLOW_CACHE;
  const size = Number(raw);
  if (!Number.isInteger(size) || size < 2) {
    throw new Error(`PIPEWRIGHT_WORKFLOW_CACHE="${raw}": expected a whole number of journeys of at least 2 (default ${DEFAULT_WORKFLOW_CACHE})`);
  }
  return size;
}
