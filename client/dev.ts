// `pipewright dev`: everything on one machine, durable across restarts. A real Temporal dev server
// (state in a SQLite file), its Web UI, the worker, and a mail sink that keeps every message.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { devLinkKeys, LINK_SECRETS_ENV, useLinkKeys } from '../activities/signedLinks';
import { openStore, type Store } from '../store';
import { startEmbeddedStore } from '../store/embedded';
import { createWorker } from '../worker/worker';
import { ensureDigestSchedule } from './digestSchedule';
import type { FastifyInstance } from 'fastify';
import { activeConfig, activeConfigCache, actor, applyConfigFile, type ActiveConfigResult } from './configVersions';
import { twilioSmsSender } from '../activities/sms';
import { createIntake } from './intake';
import { acceptsConnections } from './freePort';
import { startMailSink } from './mailSink';
import { startDevServer } from './servers';
import { connectToCluster, startLocalCluster } from './cluster';
import { TEMPORAL_SERVER_VERSION } from './clusterServers';
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';

export interface DevOptions {
  dataDir: string;
  port: number;
  uiPort: number;
  smtpPort: number;
  intakePort: number;
  storePort: number;
  taskQueue: string;
  /** Applied as the active config version at start; without it the active version stays (a new store applies PIPEWRIGHT_CONFIG or the example). */
  configFile?: string;
  /** Run on a local Temporal cluster (the real server on PostgreSQL, this many shards) instead of the dev server. */
  cluster?: { shards: number };
}

/** The Temporal side of `pipewright dev`: the dev server, or a local cluster. */
interface DevTemporal {
  client: Client;
  nativeConnection: NativeConnection;
  namespace: string;
  lines: string[];
  /** Set when other processes must be told where Temporal is (not the CLI's default 127.0.0.1:7233). */
  exportAddress?: string;
  stop(): Promise<void>;
}

type Log = (line: string) => void;

export async function runDev(options: DevOptions, log: Log = console.log): Promise<void> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const ports = [
    // A cluster picks free ports of its own.
    ...(options.cluster ? [] : ([['Temporal', options.port, '--port'], ['Web UI', options.uiPort, '--ui-port']] as const)),
    ['mail sink', options.smtpPort, '--smtp-port'],
    ['intake', options.intakePort, '--intake-port'],
    ['store', options.storePort, '--store-port'],
  ] as const;
  for (const [what, port, flag] of ports) {
    if (await acceptsConnections(port)) {
      throw new Error(`port ${port} (${what}) is already in use: is another \`pipewright dev\` or \`temporal server\` running? Pick another with ${flag}.`);
    }
  }

  // Our own lines say where everything is; the SDK speaks up only when something is wrong.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const env = options.cluster ? await startClusterTemporal(options.cluster.shards, log) : await startDevTemporal(options, dataDir, log);

  // PGlite: real PostgreSQL in WASM, served on a port so the CLI and other processes use the same client.
  // On a cluster, whose journeys end with it, in memory: a kept store would remember journeys the next cluster never ran.
  const storeFolder = options.cluster ? undefined : join(dataDir, 'store');
  const embedded = await startEmbeddedStore({ dataDir: storeFolder, port: options.storePort }).catch(async (err: unknown) => {
    await env.stop();
    throw err;
  });
  const store = await openStore(embedded.url);
  let active: ActiveConfigResult;
  let configLine: string;
  try {
    if (options.configFile) {
      const applied = await applyConfigFile(store, options.configFile, actor('dev --config'));
      active = { config: applied.config, version: applied.version, source: 'store', file: options.configFile };
      configLine = `config version ${applied.version} active (${options.configFile}${applied.activated ? `; was ${applied.previous ?? 'none'}` : ''})`;
    } else {
      active = await activeConfig(store, undefined, actor('dev, first start'));
      configLine = `config version ${active.version} active (${active.source === 'file' ? active.file : `since ${active.activatedAt?.toISOString()}; --config FILE or \`pipewright config apply FILE\` changes it`})`;
    }
  } catch (err) {
    await store.close();
    await embedded.close();
    await env.stop();
    throw err;
  }
  const sms = twilioSmsSender();
  const mailFolder = join(dataDir, 'mail');
  const sink = await startMailSink({
    port: options.smtpPort,
    folder: mailFolder,
    onMessage: (mail) => log(`mail: to ${[...mail.to, ...mail.cc].join(', ')}: "${mail.subject}" (${mail.file})`),
  });
  let intake: FastifyInstance | undefined;
  try {
    const apiKeyFile = join(dataDir, 'api-key');
    const apiKey = await devApiKey(store, apiKeyFile);
    const links = devLinkKeys(join(dataDir, 'link-secret'));
    useLinkKeys(links.keys);
    const worker = await createWorker({
      connection: env.nativeConnection,
      namespace: env.namespace,
      taskQueue: options.taskQueue,
      client: env.client,
      mailer: sink.mailer(),
      store,
      sms,
    });
    const digest = await ensureDigestSchedule(env.client, options.taskQueue, active.config);
    intake = createIntake({ client: env.client, store, taskQueue: options.taskQueue, config: activeConfigCache(store, { initial: active }) });
    await intake.listen({ host: '127.0.0.1', port: options.intakePort });
    for (const line of env.lines) log(line);
    log(`Mail sink (SMTP)      ${sink.url}, messages saved in ${mailFolder}`);
    log(`Store (PostgreSQL)    ${embedded.url} (PGlite, ${storeFolder ? `data in ${storeFolder}` : 'in memory'}; PIPEWRIGHT_DATABASE_URL for other processes)`);
    log(`Worker                task queue "${options.taskQueue}"`);
    log(`Intake (HTTP)         http://127.0.0.1:${options.intakePort}: POST /leads, GET /leads/by-email/:email (or /leads/:id), POST .../events/:event, /forms/leads, /webhooks/..., /unsubscribe?lead=`);
    log(`Config                ${configLine}`);
    log(`API key               ${apiKey} in ${apiKeyFile}: curl -H "Authorization: Bearer $(cat ${apiKeyFile})" for POST /leads and the rest of the private API`);
    log(`Unsubscribe links     signed with key "${links.keys.signing}" (${links.from}; set ${LINK_SECRETS_ENV} in production)`);
    log(`Manager digest        Schedule ${digest.id}, daily at ${digest.at} ${digest.timezone} (\`pipewright digest send\` sends it now)`);
    const { sending } = active.config;
    if (sending.sandbox) {
      log('SANDBOX ON            sending.sandbox is true: cadence messages ignore send windows, weekends and holidays. Never in production.');
    } else {
      log(`Send windows          e-mail ${sending.windows.email.join(', ') || 'any time'}, SMS ${sending.windows.sms.join(', ') || 'any time'}, in each contact's own time, business days only`);
      log('                      (nurture e-mails wait for them; `sending.sandbox: true` in a copy of the config tries a cadence now)');
    }
    log(`SMS                   ${sms ? 'through Twilio (TWILIO_ACCOUNT_SID)' : 'off: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (and PIPEWRIGHT_TWILIO_API_URL for a local stand-in); SMS steps fail until then'}`);
    log('');
    log('Try, in another terminal:');
    if (env.exportAddress) log(`  export TEMPORAL_ADDRESS=${env.exportAddress}`);
    log('  npx pipewright lead add config/examples/leads/inbound-fit.json');
    log('  npx pipewright lead show dana@northwind-mfg.example');
    log('  npx pipewright lead list --stage working');
    log('  npx pipewright contact show dana@northwind-mfg.example');
    log('  npx pipewright rep list');
    log(`  curl -X POST -H "Authorization: Bearer $(cat ${apiKeyFile})" -H 'content-type: application/json' -d @config/examples/leads/nurture.json http://127.0.0.1:${options.intakePort}/leads`);
    log(options.cluster ? 'Ctrl-C stops everything, the cluster and its PostgreSQL included; their journeys end with them.' : 'Ctrl-C stops everything; journeys in flight resume on the next start.');
    // The SDK's runtime turns SIGINT/SIGTERM into a graceful worker shutdown; run() then returns.
    await worker.run();
  } finally {
    log(`stopping: intake, mail sink, store, ${options.cluster ? 'Temporal cluster and its PostgreSQL' : 'Temporal dev server'}`);
    await intake?.close();
    await sink.close();
    await store.close();
    await embedded.close();
    await env.stop();
  }
}

async function startDevTemporal(options: DevOptions, dataDir: string, log: Log): Promise<DevTemporal> {
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
  const namespace = env.namespace ?? 'default';
  return {
    client: env.client,
    nativeConnection: env.nativeConnection,
    namespace,
    lines: [
      `Temporal dev server   127.0.0.1:${options.port} (namespace ${namespace}, state in ${join(dataDir, 'temporal.sqlite')})`,
      `Temporal Web UI       http://127.0.0.1:${options.uiPort}`,
    ],
    stop: () => env.teardown(),
  };
}

async function startClusterTemporal(shards: number, log: Log): Promise<DevTemporal> {
  log(`starting a local Temporal cluster: PostgreSQL, schemas, temporal-server with ${shards} shards (5 to 15 s)...`);
  const cluster = await startLocalCluster({ shards, log });
  const connections = await connectToCluster(cluster).catch(async (err: unknown) => {
    await cluster.stop();
    throw err;
  });
  return {
    client: connections.client,
    nativeConnection: connections.nativeConnection,
    namespace: cluster.namespace,
    exportAddress: cluster.address,
    lines: [
      `Temporal cluster      ${cluster.address} (namespace ${cluster.namespace}, temporal-server ${TEMPORAL_SERVER_VERSION}, ${cluster.shards} history shards, SQL visibility; TEMPORAL_ADDRESS for other processes)`,
      `Cluster PostgreSQL    ${cluster.postgresUrl} (its databases temporal and temporal_visibility; config and server log in ${cluster.dataDir}; all deleted on stop)`,
      'Temporal Web UI       none: the server binary has no UI (`pipewright lead list` and `temporal workflow list --address ...` show journeys)',
    ],
    async stop() {
      await connections.close();
      await cluster.stop();
    },
  };
}


/**
 * The API key `pipewright dev` hands to its user: made once and kept in `file` (readable by its
 * owner only), made again if it was revoked. Answers whether it is new, for the log line.
 */
async function devApiKey(store: Store, file: string): Promise<string> {
  if (existsSync(file) && (await store.verifyApiKey(readFileSync(file, 'utf8').trim()))) return 'kept';
  const { key } = await store.createApiKey('pipewright dev');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return 'made';
}
