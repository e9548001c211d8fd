import type { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { linkKeys } from '../activities/signedLinks';
import type { Mailer } from '../activities/mail';
import type { SmsSender } from '../activities/sms';
import type { Store } from '../store';
import { workflowCacheSize } from './workflowCache';

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
}

export function workflowsPath(): string {
  return require.resolve('../workflows');
}

export async function createWorker(options: PipewrightWorkerOptions): Promise<Worker> {
  const { connection, namespace, taskQueue, client, mailer, store, sms, workflowBundle } = options;
  // Refuses to start without the keys unsubscribe links are signed with, rather than fail at the first e-mail.
  linkKeys();
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    maxCachedWorkflows: options.maxCachedWorkflows ?? workflowCacheSize(),
    ...(workflowBundle ? { workflowBundle } : { workflowsPath: workflowsPath() }),
    activities: createActivities({ client, taskQueue, mailer, store, sms }),
  });
}
