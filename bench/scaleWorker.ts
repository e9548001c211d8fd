// The worker of `npm run bench:scale`, in a process of its own so that its memory is measured alone,
// as `pipewright worker` runs: createWorker with a NativeConnection, the store through a pg pool and
// mail through SMTP. The bench passes its settings as one JSON argument and talks to it over IPC.
//
// The cache size, when the bench asks for one other than Pipewright's default, goes to createWorker;
// benchTimerFired, the activity bench timers report their lateness with, is added through a
// connection plugin (the SDK hands a connection's plugins every Worker created on it).
import { getHeapStatistics } from 'node:v8';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type NativeConnectionPlugin, type WorkerOptions, type WorkerPlugin } from '@temporalio/worker';
import { mailerFromEnv } from '../activities/mail';
import { openStore } from '../store';
import { createWorker } from '../worker/worker';
import { LINK_SECRETS_ENV, newLinkSecret, parseLinkKeys, useLinkKeys } from '../activities/signedLinks';
import type { BenchActivities } from './workflows';

export interface ScaleWorkerArgs {
  address: string;
  namespace: string;
  taskQueue: string;
  storeUrl: string;
  smtpUrl: string;
  bundlePath: string;
  /** Omitted: Pipewright's default (worker/workflowCache.ts). */
  maxCachedWorkflows?: number;
}

export type FromScaleWorker =
  | { type: 'ready'; maxCachedWorkflows: number; heapLimit: number }
  | { type: 'status'; cached: number; activations: number; activities: number }
  | { type: 'fired'; id: string; dueAt: number; wokeAt: number; slept: boolean; ranAt: number };

export type ToScaleWorker = { type: 'stop' };

function send(message: FromScaleWorker): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as ScaleWorkerArgs;
  Runtime.install({ logger: new DefaultLogger('WARN') });

  const benchTimerFired: BenchActivities['benchTimerFired'] = async ({ id, dueAt, wokeAt, slept }) => {
    send({ type: 'fired', id, dueAt, wokeAt, slept, ranAt: Date.now() });
  };
  const plugin: NativeConnectionPlugin & WorkerPlugin = {
    name: 'pipewright-bench',
    configureWorker: (options: WorkerOptions): WorkerOptions => ({
      ...options,
      activities: { ...options.activities, benchTimerFired },
    }),
  };

  const connection = await NativeConnection.connect({ address: args.address, plugins: [plugin] });
  const client = new Client({ connection: await Connection.connect({ address: args.address }), namespace: args.namespace });
  const store = await openStore(args.storeUrl);
  const mailer = mailerFromEnv({ PIPEWRIGHT_SMTP_URL: args.smtpUrl });
  // The bench's e-mails are never clicked: a key of its own when none is set.
  if (!process.env[LINK_SECRETS_ENV]) useLinkKeys(parseLinkKeys(newLinkSecret('bench')));
  const worker = await createWorker({
    connection,
    namespace: args.namespace,
    taskQueue: args.taskQueue,
    client,
    mailer,
    store,
    workflowBundle: { codePath: args.bundlePath },
    ...(args.maxCachedWorkflows !== undefined && { maxCachedWorkflows: args.maxCachedWorkflows }),
  });

  process.on('message', (message: ToScaleWorker) => {
    if (message.type === 'stop' && worker.getState() === 'RUNNING') worker.shutdown();
  });
  // The parent going away ends this worker too.
  process.on('disconnect', () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
  });
  const ticker = setInterval(() => {
    const status = worker.getStatus();
    send({ type: 'status', cached: status.numCachedWorkflows, activations: status.numInFlightWorkflowActivations, activities: status.numInFlightActivities });
  }, 500);
  send({ type: 'ready', maxCachedWorkflows: worker.options.maxCachedWorkflows, heapLimit: getHeapStatistics().heap_size_limit });
  try {
    await worker.run();
  } finally {
    clearInterval(ticker);
    await store.close();
    await client.connection.close();
    await connection.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
