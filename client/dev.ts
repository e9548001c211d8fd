// `pipewright dev`: everything on one machine, durable across restarts. A real Temporal dev server
// (state in a SQLite file), its Web UI, the worker, and a mail sink that keeps every message.
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createWorker } from '../worker/worker';
import { startMailSink } from './mailSink';
import { startDevServer } from './servers';

export interface DevOptions {
  dataDir: string;
  port: number;
  uiPort: number;
  smtpPort: number;
  taskQueue: string;
  configFile: string;
}

type Log = (line: string) => void;

export async function runDev(options: DevOptions, log: Log = console.log): Promise<void> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  for (const [what, port] of [['Temporal', options.port], ['Web UI', options.uiPort], ['mail sink', options.smtpPort]] as const) {
    if (await portInUse(port)) {
      throw new Error(`port ${port} (${what}) is already in use: is another \`pipewright dev\` or \`temporal server\` running? Pick another with --${what === 'Temporal' ? 'port' : what === 'Web UI' ? 'ui-port' : 'smtp-port'}.`);
    }
  }

  // Our own lines say where everything is; the SDK speaks up only when something is wrong.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const env = await startDevServer(
    {
      port: options.port,
      ui: true,
      uiPort: options.uiPort,
      // The journeys in flight live in this file, so they outlive a restart of `pipewright dev`.
      dbFilename: join(dataDir, 'temporal.sqlite'),
    },
    log,
  );

  const mailFolder = join(dataDir, 'mail');
  const sink = await startMailSink({
    port: options.smtpPort,
    folder: mailFolder,
    onMessage: (mail) => log(`mail: to ${[...mail.to, ...mail.cc].join(', ')}: "${mail.subject}" (${mail.file})`),
  });
  try {
    const worker = await createWorker({
      connection: env.nativeConnection,
      namespace: env.namespace,
      taskQueue: options.taskQueue,
      client: env.client,
      mailer: sink.mailer(),
    });
    log(`Temporal dev server   127.0.0.1:${options.port} (namespace ${env.namespace ?? 'default'}, state in ${join(dataDir, 'temporal.sqlite')})`);
    log(`Temporal Web UI       http://127.0.0.1:${options.uiPort}`);
    log(`Mail sink (SMTP)      ${sink.url}, messages saved in ${mailFolder}`);
    log(`Worker                task queue "${options.taskQueue}"`);
    log(`Config for new leads  ${options.configFile}`);
    log('');
    log('Try, in another terminal:');
    log('  npx pipewright lead add config/examples/leads/inbound-fit.json');
    log('  npx pipewright lead show dana@northwind-mfg.example');
    log('Ctrl-C stops everything; journeys in flight resume on the next start.');
    // The SDK's runtime turns SIGINT/SIGTERM into a graceful worker shutdown; run() then returns.
    await worker.run();
  } finally {
    log('stopping: mail sink, Temporal dev server');
    await sink.close();
    await env.teardown();
  }
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolvePort(true);
    });
    socket.once('error', () => resolvePort(false));
  });
}
