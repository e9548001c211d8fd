// `pipewright dev`: everything on one machine, durable across restarts. A real Temporal dev server
// (state in a SQLite file), its Web UI, the worker, and a mail sink that keeps every message.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
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
import { startMailSink } from './mailSink';
import { startDevServer } from './servers';

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
}

type Log = (line: string) => void;

export async function runDev(options: DevOptions, log: Log = console.log): Promise<void> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const ports = [
    ['Temporal', options.port, '--port'],
    ['Web UI', options.uiPort, '--ui-port'],
    ['mail sink', options.smtpPort, '--smtp-port'],
    ['intake', options.intakePort, '--intake-port'],
    ['store', options.storePort, '--store-port'],
  ] as const;
  for (const [what, port, flag] of ports) {
    if (await portInUse(port)) {
      throw new Error(`port ${port} (${what}) is already in use: is another \`pipewright dev\` or \`temporal server\` running? Pick another with ${flag}.`);
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

  // PGlite: real PostgreSQL in WASM, served on a port so the CLI and other processes use the same client.
  const storeFolder = join(dataDir, 'store');
  const embedded = await startEmbeddedStore({ dataDir: storeFolder, port: options.storePort });
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
    await env.teardown();
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
    log(`Temporal dev server   127.0.0.1:${options.port} (namespace ${env.namespace ?? 'default'}, state in ${join(dataDir, 'temporal.sqlite')})`);
    log(`Temporal Web UI       http://127.0.0.1:${options.uiPort}`);
    log(`Mail sink (SMTP)      ${sink.url}, messages saved in ${mailFolder}`);
    log(`Store (PostgreSQL)    ${embedded.url} (PGlite, data in ${storeFolder}; PIPEWRIGHT_DATABASE_URL for other processes)`);
    log(`Worker                task queue "${options.taskQueue}"`);
    log(`Intake (HTTP)         http://127.0.0.1:${options.intakePort}: POST /leads, GET /leads/:id, POST /leads/:id/events/:event, /unsubscribe?lead=`);
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
    log('  npx pipewright lead add config/examples/leads/inbound-fit.json');
    log('  npx pipewright lead show dana@northwind-mfg.example');
    log('  npx pipewright lead list --stage working');
    log('  npx pipewright contact show dana@northwind-mfg.example');
    log('  npx pipewright rep list');
    log(`  curl -X POST -H 'content-type: application/json' -d @config/examples/leads/nurture.json http://127.0.0.1:${options.intakePort}/leads`);
    log('Ctrl-C stops everything; journeys in flight resume on the next start.');
    // The SDK's runtime turns SIGINT/SIGTERM into a graceful worker shutdown; run() then returns.
    await worker.run();
  } finally {
    log('stopping: intake, mail sink, store, Temporal dev server');
    await intake?.close();
    await sink.close();
    await store.close();
    await embedded.close();
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
