import type { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { mailerFromEnv } from '../activities/mail';
import { linkKeys } from '../activities/signedLinks';
import { twilioSmsSender } from '../activities/sms';
import { connectClient, connectStore, temporalSettings } from '../client/connection';
import { missingSearchAttributes } from '../client/searchAttributes';
import { metricsAddress, serveMetrics } from './metrics';
import { describeTuning, workerTuning } from './tuning';
import { createWorker } from './worker';

/**
 * The production worker: Temporal from the environment (see client/connection.ts), mail through
 * PIPEWRIGHT_SMTP_URL, the store in PIPEWRIGHT_DATABASE_URL, unsubscribe links signed with PIPEWRIGHT_LINK_SECRETS,
 * its capacity from the PIPEWRIGHT_* tuning variables (tuning.ts) and Prometheus metrics on
 * PIPEWRIGHT_METRICS_ADDRESS (metrics.ts). Runs until SIGINT or SIGTERM, then finishes the tasks in hand and exits.
 */
export async function runWorker(log: (line: string) => void = console.log): Promise<void> {
  // Read and checked before anything connects: a bad value stops the worker at once, naming its variable.
  const tuning = workerTuning();
  const metrics = metricsAddress();
  // Before the first NativeConnection, which would start the SDK's runtime without metrics.
  if (metrics) log(`worker: Prometheus metrics at ${serveMetrics(metrics)}`);
  const settings = temporalSettings();
  linkKeys();
  const mailer = mailerFromEnv();
  const sms = twilioSmsSender();
  const store = await connectStore();
  const client = await connectClient(settings);
  const connection = await NativeConnection.connect(settings.connectionOptions);
  await warnOfMissingSearchAttributes(client, log);
  try {
    const worker = await createWorker({
      connection,
      namespace: settings.namespace,
      taskQueue: settings.taskQueue,
      client,
      mailer,
      store,
      sms,
      maxCachedWorkflows: tuning.workflowCache,
      maxConcurrentActivities: tuning.maxConcurrentActivities,
      maxConcurrentWorkflowTasks: tuning.maxConcurrentWorkflowTasks,
      workflowPollers: tuning.workflowPollers,
      activityPollers: tuning.activityPollers,
    });
    log(`worker: polling task queue "${settings.taskQueue}" on ${settings.connectionOptions.address ?? 'localhost:7233'}, store ${store.url}, SMS ${sms ? 'through Twilio' : 'off (no TWILIO_ACCOUNT_SID)'}; ${describeTuning(worker.options)}`);
    await worker.run();
  } finally {
    await connection.close();
    await client.connection.close();
    await store.close();
  }
}


/** Journeys fail their workflow tasks on a namespace without the attributes: say so at start. */
async function warnOfMissingSearchAttributes(client: Client, log: (line: string) => void): Promise<void> {
  const missing = await missingSearchAttributes(client.connection as Connection, client.options.namespace).catch(() => []);
  if (missing.length === 0) return;
  log(`worker: WARNING namespace ${client.options.namespace} lacks the search attributes ${missing.join(', ')}; journeys stall until they exist. Run \`pipewright setup\` (self-hosted) or add them as Keyword attributes in Temporal Cloud.`);
}
