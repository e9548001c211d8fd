import type { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { linkKeys } from '../activities/signedLinks';
import type { Mailer } from '../activities/mail';
import type { SmsSender } from '../activities/sms';
import type { Store } from '../store';
import { workerTuning } from './tuning';

export interface PipewrightWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  /** Used by activities that talk to other workflows (the rep rotation). */
  client: Client;
  mailer: Mailer;
  store: Store;
  /** Twilio for SMS steps; without it they fail (and say why) while e-mail goes on. */
  sms?: SmsSender;
  /** A prebuilt bundle (tests build one per file); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Journeys kept in memory between their tasks; by default PIPEWRIGHT_WORKFLOW_CACHE or 1,000 (workflowCache.ts). */
  maxCachedWorkflows?: number;
  /** Activities run at once; by default PIPEWRIGHT_MAX_CONCURRENT_ACTIVITIES or the SDK's (tuning.ts). */
  maxConcurrentActivities?: number;
  /** Workflow tasks run at once; by default PIPEWRIGHT_MAX_CONCURRENT_WORKFLOW_TASKS or the SDK's. */
  maxConcurrentWorkflowTasks?: number;
  /** Workflow task polls held open; by default PIPEWRIGHT_WORKFLOW_POLLERS or the SDK's. */
  workflowPollers?: number;
  /** Activity task polls held open; by default PIPEWRIGHT_ACTIVITY_POLLERS or the SDK's. */
  activityPollers?: number;
}

export function workflowsPath(): string {
  return require.resolve('../workflows');
}

export async function createWorker(options: PipewrightWorkerOptions): Promise<Worker> {
  const { connection, namespace, taskQueue, client, mailer, store, sms, workflowBundle } = options;
  // Refuses to start without the keys unsubscribe links are signed with, rather than fail at the first e-mail.
  linkKeys();
  const tuning = workerTuning(process.env, {
    workflowCache: options.maxCachedWorkflows,
    maxConcurrentActivities: options.maxConcurrentActivities,
    maxConcurrentWorkflowTasks: options.maxConcurrentWorkflowTasks,
    workflowPollers: options.workflowPollers,
    activityPollers: options.activityPollers,
  });
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    maxCachedWorkflows: tuning.workflowCache,
    // Unset knobs are left out, so the SDK applies its own defaults.
    ...(tuning.maxConcurrentActivities !== undefined && { maxConcurrentActivityTaskExecutions: tuning.maxConcurrentActivities }),
    ...(tuning.maxConcurrentWorkflowTasks !== undefined && { maxConcurrentWorkflowTaskExecutions: tuning.maxConcurrentWorkflowTasks }),
    // The poller behaviours, not maxConcurrent*TaskPolls: SDK 1.24 accepts those but ignores them.
    ...(tuning.workflowPollers !== undefined && { workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: tuning.workflowPollers } }),
    ...(tuning.activityPollers !== undefined && { activityTaskPollerBehavior: { type: 'simple-maximum', maximum: tuning.activityPollers } }),
    ...(workflowBundle ? { workflowBundle } : { workflowsPath: workflowsPath() }),
    activities: createActivities({ client, taskQueue, mailer, store, sms }),
  });
}
