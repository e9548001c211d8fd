// How much one worker takes on at once, from the environment: the knobs to turn before adding
// workers. Each unset knob keeps the SDK's default, so a worker without them runs as before. Read
// once at start; a bad value stops the worker there, naming the variable.
import type { Worker } from '@temporalio/worker';
import { workflowCacheSize } from './workflowCache';

/** @temporalio/worker 1.24's own defaults (worker-options.js); test/tuning.test.ts holds the SDK to them. */
export const SDK_DEFAULTS = {
  maxConcurrentActivities: 100,
  maxConcurrentWorkflowTasks: 40,
  /** Pollers of each kind: at most this many, and never more than the kind's task slots. */
  pollersCap: 10,
} as const;

export interface WorkerTuning {
  /** Journeys kept in memory between their workflow tasks (workflowCache.ts). */
  workflowCache: number;
  /** Activities (sends, store calls) run at once; unset: the SDK's 100. Local activities (a journey's quick first notice) have slots of their own. */
  maxConcurrentActivities?: number;
  /** Workflow tasks run at once; unset: the SDK's 40. */
  maxConcurrentWorkflowTasks?: number;
  /** Workflow task polls held open, the worker's sticky queue included; unset: min(10, workflow tasks). */
  workflowPollers?: number;
  /** Activity task polls held open; unset: min(10, activities). */
  activityPollers?: number;
}

/**
 * The worker's tuning: `given` where set (callers in code, such as tests and benches), else the
 * environment. Throws, naming the variable, on a value the worker could not start with.
 */
export function workerTuning(env: NodeJS.ProcessEnv = process.env, given: Partial<WorkerTuning> = {}): WorkerTuning {
  const tuning: WorkerTuning = {
    workflowCache: given.workflowCache ?? workflowCacheSize(env),
    maxConcurrentActivities: given.maxConcurrentActivities ?? wholeNumber(env, 'PIPEWRIGHT_MAX_CONCURRENT_ACTIVITIES', 'activities run at once', 1, SDK_DEFAULTS.maxConcurrentActivities),
    // The SDK needs 2 at least while journeys are cached, and Pipewright always caches them.
    maxConcurrentWorkflowTasks: given.maxConcurrentWorkflowTasks ?? wholeNumber(env, 'PIPEWRIGHT_MAX_CONCURRENT_WORKFLOW_TASKS', 'workflow tasks run at once', 2, SDK_DEFAULTS.maxConcurrentWorkflowTasks),
    // Likewise: one poll for the task queue and one for the worker's sticky queue.
    workflowPollers: given.workflowPollers ?? wholeNumber(env, 'PIPEWRIGHT_WORKFLOW_POLLERS', 'workflow task polls', 2, `min(${SDK_DEFAULTS.pollersCap}, workflow tasks)`),
    activityPollers: given.activityPollers ?? wholeNumber(env, 'PIPEWRIGHT_ACTIVITY_POLLERS', 'activity task polls', 1, `min(${SDK_DEFAULTS.pollersCap}, activities)`),
  };
  const { workflowTasks, activities } = slots(tuning);
  // A poller polls only with a task slot free: more pollers than slots would never all poll.
  if (tuning.workflowPollers !== undefined && tuning.workflowPollers > workflowTasks) {
    throw new Error(`PIPEWRIGHT_WORKFLOW_POLLERS=${tuning.workflowPollers}: more than the ${workflowTasks} workflow tasks the worker runs at once (PIPEWRIGHT_MAX_CONCURRENT_WORKFLOW_TASKS); a poller only polls with a task slot free`);
  }
  if (tuning.activityPollers !== undefined && tuning.activityPollers > activities) {
    throw new Error(`PIPEWRIGHT_ACTIVITY_POLLERS=${tuning.activityPollers}: more than the ${activities} activities the worker runs at once (PIPEWRIGHT_MAX_CONCURRENT_ACTIVITIES); a poller only polls with a task slot free`);
  }
  // A workflow task needs its journey in the cache (the SDK documents the same limit).
  if (tuning.maxConcurrentWorkflowTasks !== undefined && tuning.maxConcurrentWorkflowTasks > tuning.workflowCache) {
    throw new Error(`PIPEWRIGHT_MAX_CONCURRENT_WORKFLOW_TASKS=${tuning.maxConcurrentWorkflowTasks}: more than the ${tuning.workflowCache} journeys the worker caches (PIPEWRIGHT_WORKFLOW_CACHE); each workflow task needs its journey in the cache`);
  }
  return tuning;
}

/** Task slots of each kind, the SDK's where unset. */
function slots(tuning: WorkerTuning): { workflowTasks: number; activities: number } {
  return {
    workflowTasks: tuning.maxConcurrentWorkflowTasks ?? SDK_DEFAULTS.maxConcurrentWorkflowTasks,
    activities: tuning.maxConcurrentActivities ?? SDK_DEFAULTS.maxConcurrentActivities,
  };
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, what: string, min: number, sdkDefault: number | string): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new Error(`${name}="${raw}": expected a whole number of ${what} of at least ${min} (unset: the SDK's default, ${sdkDefault})`);
  }
  return value;
}

/**
 * What the worker runs with, read back from the SDK after its defaults (for the start log line):
 * "cache 1000 journeys, at once 40 workflow tasks and 100 activities, pollers 10 workflow and 10 activity".
 */
export function describeTuning(options: Worker['options']): string {
  const numSlots = (supplier: { type: string; numSlots?: number }) => (supplier.type === 'fixed-size' ? String(supplier.numSlots) : supplier.type);
  const pollers = (behavior: { type: string; maximum?: number }) => (behavior.type === 'simple-maximum' ? String(behavior.maximum) : behavior.type);
  return (
    `cache ${options.maxCachedWorkflows} journeys, ` +
    `at once ${numSlots(options.tuner.workflowTaskSlotSupplier)} workflow tasks and ${numSlots(options.tuner.activityTaskSlotSupplier)} activities, ` +
    `pollers ${pollers(options.workflowTaskPollerBehavior)} workflow and ${pollers(options.activityTaskPollerBehavior)} activity`
  );
}
