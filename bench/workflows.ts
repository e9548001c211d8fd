// The bench worker's workflows: Pipewright's own, plus two of the bench's.
import { proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';

export * from '../workflows';

/** Activities only bench workers register (see bench/leads.ts and bench/scaleWorker.ts). */
export interface BenchActivities {
  /** Does nothing: the baseline's one activity. */
  benchNoop(): Promise<void>;
  /** Tells the bench when a timer came due and when the workflow woke up (workflow time). */
  benchTimerFired(fired: { id: string; dueAt: number; wokeAt: number; slept: boolean }): Promise<void>;
}

const { benchNoop, benchTimerFired } = proxyActivities<BenchActivities>({ startToCloseTimeout: '1 minute' });

/** The baseline: the engine's own ceiling for a workflow that runs one activity and completes. */
export async function benchOneActivity(): Promise<void> {
  await benchNoop();
}

/**
 * Sleeps on a durable timer until `dueAt` (epoch ms), then reports how late it woke: the workflow's
 * clock is the time its workflow task started, so the difference is the server firing the timer
 * plus the task waiting for a worker; the activity's own clock adds the worker's processing.
 */
export async function benchTimer(dueAt: number): Promise<void> {
  const wait = dueAt - Date.now();
  // A timer whose first workflow task ran after it was due never slept: the bench counts it apart.
  if (wait > 0) await sleep(wait);
  await benchTimerFired({ id: workflowInfo().workflowId, dueAt, wokeAt: Date.now(), slept: wait > 0 });
}
