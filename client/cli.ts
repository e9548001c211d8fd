#!/usr/bin/env node
// The `pipewright` command. Each subcommand is a thin shell over client/, worker/ and config/.
import type { Connection } from '@temporalio/client';
import { Command, Option } from 'commander';
import { linkKeys } from '../activities/signedLinks';
import { loadConfig } from '../config/load';
import { ValidationError } from '../config/validation';
import { DEV_STORE_PORT, openStore, startEmbeddedStore } from '../store';
import { SUPPRESSION_CHANNELS, type SuppressionChannel } from '../store/types';
import { LEAD_EVENTS } from '../workflows/messages';
import { temporalSettings } from './connection';
import { leadEventOptions, registerAccountCommands } from './accountCommands';
import { registerReplay } from './replayCommand';
import { registerApiKeyCommands } from './apiKeyCommands';
import { registerTeamCommands } from './teamCommands';
import { port, positive, readJson, withClient, withStore } from './commandContext';
import { contactRecord } from './contacts';
import { describeContact, describeJourney, describeListed } from './describe';
import { ACTIVE_CONFIG_HELP, describeActive, refuseConfigOption, registerCadenceCommands, registerConfigCommands, removedConfigOption } from './configCommands';
import { activeConfig, activeConfigCache, actor } from './configVersions';
import { createIntake, type IntakeFace } from './intake';
import { listJourneys, SLA_STATUSES, STAGES, type JourneyFilter } from './journeyList';
import { registerSearchAttributes } from './searchAttributes';
import { addLead, parseLead, resolveLead, sendLeadEvent, showLead, type EventDetail, type LeadRef } from './leads';
import { registerLeadImport } from './leadImportCommand';
import { ensureServer } from './servers';
import { SDK_DEFAULTS } from '../worker/tuning';
import { DEFAULT_WORKFLOW_CACHE } from '../worker/workflowCache';

// Defaults from worker/tuning.ts and worker/workflowCache.ts, which hold no SDK code: help stays quick.
const WORKER_ENV_HELP = `
Capacity and monitoring, from the environment at start (unset: the default in brackets):
  PIPEWRIGHT_WORKFLOW_CACHE                 journeys kept in memory between tasks [${DEFAULT_WORKFLOW_CACHE}]
  PIPEWRIGHT_MAX_CONCURRENT_WORKFLOW_TASKS  workflow tasks run at once [SDK: ${SDK_DEFAULTS.maxConcurrentWorkflowTasks}]
  PIPEWRIGHT_MAX_CONCURRENT_ACTIVITIES      activities (sends, store calls) at once, local ones apart [SDK: ${SDK_DEFAULTS.maxConcurrentActivities}]
  PIPEWRIGHT_WORKFLOW_POLLERS               workflow task polls held open, 2 or more [SDK: min(${SDK_DEFAULTS.pollersCap}, workflow tasks)]
  PIPEWRIGHT_ACTIVITY_POLLERS               activity task polls held open [SDK: min(${SDK_DEFAULTS.pollersCap}, activities)]
  PIPEWRIGHT_METRICS_ADDRESS                IP:PORT to serve Prometheus metrics at /metrics, e.g. 0.0.0.0:9464 [off]`;

const program = new Command('pipewright')
  .description('Durable lead routing and sales cadences on Temporal.')
  .showHelpAfterError('(run with --help for usage)');

program
  .command('dev')
  .description('run everything locally: Temporal dev server with its Web UI, the worker, the HTTP intake and a mail sink')
  .option('--data <dir>', 'where the dev server keeps its state and the sink its mail', '.pipewright')
  .addOption(new Option('--port <port>', 'Temporal gRPC port').default(7233).argParser(port))
  .addOption(new Option('--ui-port <port>', 'Temporal Web UI port').default(8233).argParser(port))
  .addOption(new Option('--smtp-port <port>', 'mail sink SMTP port').default(1025).argParser(port))
  .addOption(new Option('--intake-port <port>', 'HTTP intake port').default(8080).argParser(port))
  .addOption(new Option('--store-port <port>', 'the embedded store\'s PostgreSQL port').default(DEV_STORE_PORT).argParser(port))
  .option(
    '--config <file>',
    'apply this config file as the active version at start (as `pipewright config apply`); without it the active version stays, and a new store starts on PIPEWRIGHT_CONFIG or the example',
  )
  .option(
    '--cluster',
    'run on a local Temporal cluster instead of the dev server: the real temporal-server on a throwaway PostgreSQL (Debian\'s postgresql package), several history shards, SQL visibility; built with Go on first use (about 4 minutes). Its journeys and the store end when it stops; no Web UI. Ignores --port and --ui-port',
  )
  .addOption(new Option('--shards <n>', 'history shards of the --cluster server').default(4).argParser(positive))
  .action(async (opts: { data: string; port: number; uiPort: number; smtpPort: number; intakePort: number; storePort: number; config?: string; cluster?: boolean; shards: number }) => {
    // Checked before the slow start: a broken file is reported at once.
    if (opts.config) loadConfig(opts.config);
    // Loaded here: the worker SDK is heavy, and every other command would pay for it at start.
    const { runDev } = await import('./dev');
    await runDev({
      dataDir: opts.data,
      port: opts.port,
      uiPort: opts.uiPort,
      smtpPort: opts.smtpPort,
      intakePort: opts.intakePort,
      storePort: opts.storePort,
      configFile: opts.config,
      taskQueue: temporalSettings().taskQueue,
      ...(opts.cluster && { cluster: { shards: opts.shards } }),
    });
  });

program
  .command('worker')
  .description('run a worker against the Temporal server in TEMPORAL_ADDRESS, sending mail through PIPEWRIGHT_SMTP_URL')
  .addHelpText('after', WORKER_ENV_HELP)
  .action(async () => {
    const { runWorker } = await import('../worker/main');
    await runWorker();
  });

program
  .command('intake')
  .description('serve the HTTP intake (leads, events, unsubscribe links, signed webhooks) against the Temporal server in TEMPORAL_ADDRESS and the store in PIPEWRIGHT_DATABASE_URL')
  .addOption(new Option('--port <port>', 'port to listen on (with --public-port: the private API only)').default(8080).argParser(port))
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .addOption(new Option('--public-port <port>', 'serve the public face (unsubscribe pages, signed webhooks, inbound SMS) on this port of its own, and only the private API on --port').argParser(port))
  .option('--public-host <host>', 'address the public face listens on', '0.0.0.0')
  .addOption(removedConfigOption())
  .addHelpText('after', `${ACTIVE_CONFIG_HELP}\nThe intake reads the active version at start and again at most every 5 s, so a\n\`config apply\` reaches new leads within 5 s without a restart; SIGHUP reads it at once.\nA version it cannot read leaves the last good one in force (and says so on stderr).\n\nExpose only the public face to the internet: with --public-port it has a port of its own.`)
  .action(async (opts: { port: number; host: string; publicPort?: number; publicHost: string; config?: string }) => {
    refuseConfigOption('intake', opts.config);
    linkKeys();
    await withStore(async (store) => {
      // Read (and validated) once at start, so a broken active version stops the intake here; then
      // re-read at most every 5 s, so a `config apply` reaches new leads without a restart.
      const active = await activeConfig(store, undefined, actor('intake start'));
      await withClient(async (client, taskQueue) => {
        const config = activeConfigCache(store, {
          initial: active,
          onError: (err, serving) => console.error(`intake: the active config could not be read again, so version ${serving.version} stays in force: ${err.message}`),
        });
        // An explicit reload: read the active version now rather than within 5 s.
        const reload = () => {
          config.reload();
          config.get().then(
            (now) => console.log(`intake: SIGHUP: ${describeActive(now)}`),
            (err: Error) => console.error(`intake: SIGHUP: ${err.message}`),
          );
        };
        process.on('SIGHUP', reload);
        const split = opts.publicPort !== undefined;
        const listeners: { face: IntakeFace; host: string; port: number }[] = [{ face: split ? 'private' : 'both', host: opts.host, port: opts.port }];
        if (split) listeners.push({ face: 'public', host: opts.publicHost, port: opts.publicPort! });
        const intakes = listeners.map(({ face }) => createIntake({ client, store, taskQueue, config, face }));
        for (const [i, { face, host, port: at }] of listeners.entries()) {
          await intakes[i]!.listen({ host, port: at });
          console.log(`intake (${face === 'both' ? 'private API and public face' : face === 'private' ? 'private API' : 'public face'}): listening on http://${host}:${at}`);
        }
        console.log(`intake: store ${store.url}, ${describeActive(active)}`);
        await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
        process.off('SIGHUP', reload);
        await Promise.all(intakes.map((intake) => intake.close()));
      });
    });
  });

registerConfigCommands(program);
registerCadenceCommands(program);
registerAccountCommands(program);
registerTeamCommands(program);
registerApiKeyCommands(program);
registerReplay(program);

const lead = program.command('lead').description('start, inspect, list and update lead journeys');
lead
  .command('add <file>')
  .description('start a journey for the lead in a JSON file ("-" reads standard input) on the active config version, and print its ID')
  .addOption(removedConfigOption())
  .addHelpText('after', ACTIVE_CONFIG_HELP)
  .action(async (file: string, opts: { config?: string }) => {
    refuseConfigOption('lead add', opts.config);
    // The lead is checked before connecting, so a bad file is reported even with Temporal down.
    const subject = file === '-' ? 'lead (stdin)' : file;
    const leadData = parseLead(readJson(file, subject), subject);
    await withStore(async (store) => {
      // On first use this applies PIPEWRIGHT_CONFIG (else the example) silently: stdout is the ID alone
      // and a successful add prints nothing else; `config history` shows it as "(first lead add)".
      const active = await activeConfig(store, undefined, actor('first lead add'));
      await withClient(async (client, taskQueue) => {
        const { leadId, started, suppressed } = await addLead(client, store, taskQueue, active.config, leadData, active.version);
        console.log(leadId);
        if (!started) console.error(`${leadId} already has a journey; nothing new was started`);
        if (suppressed) console.error(`${leadData.email}: ${suppressed}; the journey will not e-mail them`);
      });
    });
  });
registerLeadImport(lead);

/** `<lead>` is the lead's e-mail address; with --id, the journey's ID. Never guessed from the text. */
const LEAD_ARGUMENT = "the lead's e-mail address (with --id: its journey ID, as notices and `lead list` print it)";
const idOption = () => new Option('--id', 'the lead argument is a journey ID (lead-...), not an e-mail address');
const leadRef = (lead: string, byId: boolean | undefined): LeadRef => (byId ? { id: lead } : { email: lead });

lead
  .command('show')
  .argument('<lead>', LEAD_ARGUMENT)
  .description('print where a journey is: stage, owner, SLA, e-mails sent, next step, outcome')
  .addOption(idOption())
  .option('--json', 'print the raw state as JSON')
  .action((leadArg: string, opts: { id?: boolean; json?: boolean }) =>
    withClient(async (client) => {
      const state = await showLead(client, leadRef(leadArg, opts.id));
      console.log(opts.json ? JSON.stringify(state, null, 2) : describeJourney(state));
    }),
  );

lead
  .command('list')
  .description('list journeys by stage, owner and SLA status (search attributes; no lead data is searched)')
  .addOption(new Option('--stage <stage>', 'only journeys at this stage').choices(STAGES))
  .option('--owner <email>', "only journeys owned by this rep's e-mail")
  .addOption(new Option('--sla <status>', 'only journeys whose first-touch SLA is').choices(SLA_STATUSES))
  .addOption(new Option('--limit <n>', 'at most this many').default(100).argParser(positive))
  .option('--json', 'print one JSON object a line')
  .action((opts: JourneyFilter & { limit: number; json?: boolean }) =>
    withClient(async (client) => {
      let shown = 0;
      for await (const journey of listJourneys(client, opts, opts.limit)) {
        console.log(opts.json ? JSON.stringify(journey) : describeListed(journey));
        shown++;
      }
      if (!opts.json) console.error(`${shown} journey(s)${shown === opts.limit ? ` (the first ${opts.limit}; --limit for more)` : ''}`);
    }),
  );

leadEventOptions(
  lead
    .command('event')
    .argument('<lead>', LEAD_ARGUMENT)
    .argument('<event>', LEAD_EVENTS.join(' | '))
    .description('tell a journey what happened')
    .addOption(idOption()),
).action((leadArg: string, event: string, { id: byId, ...detail }: EventDetail & { id?: boolean }) =>
    withStore((store) =>
      withClient(async (client) => {
        const ref = leadRef(leadArg, byId);
        const { journeyId, email } = resolveLead(ref);
        const { delivered } = await sendLeadEvent(client, store, ref, event, 'cli', detail);
        if (event === 'unsubscribed') console.log(`unsubscribed: ${email} is suppressed on every channel${delivered ? ` and ${journeyId} was stopped` : ' (no running journey to stop)'}`);
        else console.log(`${event}: delivered to ${journeyId}`);
        if (event === 'touched' && !detail.by) console.error('note: without --by the touch is kept but meets no SLA (only the owner\'s touch counts)');
      }),
    ),
  );

const contact = program.command('contact').description("a contact's suppressions and what was sent to them, from the store");
contact
  .command('show <email>')
  .description('print the contact, their suppressions, the messages sent to them and their journey events')
  .option('--json', 'print it as JSON')
  .action((email: string, opts: { json?: boolean }) =>
    withStore(async (store) => {
      const found = await contactRecord(store, email);
      console.log(opts.json ? JSON.stringify(found, null, 2) : describeContact(found));
    }),
  );
contact
  .command('suppress <email>')
  .description('never contact this address again on a channel (every journey checks before each send)')
  .addOption(new Option('--channel <channel>', 'which channel').choices(SUPPRESSION_CHANNELS).default('all'))
  .requiredOption('--reason <text>', 'why, for whoever reads it later (e.g. "asked by phone")')
  .action((email: string, opts: { channel: SuppressionChannel; reason: string }) =>
    withStore(async (store) => {
      const { created } = await store.suppress({ email, channel: opts.channel, reason: opts.reason, source: 'cli' });
      console.log(`${email}: ${opts.channel} ${created ? 'suppressed' : 'was already suppressed'}`);
    }),
  );
contact
  .command('unsuppress <email>')
  .description('lift a suppression (on "all", every channel\'s)')
  .addOption(new Option('--channel <channel>', 'which channel').choices(SUPPRESSION_CHANNELS).default('all'))
  .action((email: string, opts: { channel: SuppressionChannel }) =>
    withStore(async (store) => {
      const removed = await store.unsuppress(email, opts.channel);
      console.log(`${email}: ${removed ? `${removed} suppression(s) lifted` : `no ${opts.channel} suppression to lift`}`);
    }),
  );

const storeCommand = program.command('store').description("Pipewright's system of record (PostgreSQL)");
storeCommand
  .command('serve')
  .description('serve the embedded store (PGlite: PostgreSQL in WASM, no install) alone, for a worker and intake run as separate processes')
  .option('--data <dir>', 'where it keeps its data (omit for memory only)')
  .addOption(new Option('--port <port>', 'PostgreSQL port (0 for any free one)').default(DEV_STORE_PORT).argParser((v) => (v === '0' ? 0 : port(v))))
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  // For test harnesses and scripts: a store whose starter crashed must not outlive it.
  .addOption(new Option('--stop-with-parent', 'stop when the process that started this one exits').hideHelp())
  .action(async (opts: { data?: string; port: number; host: string; stopWithParent?: boolean }) => {
    // Read before the slow start: a parent that dies meanwhile must still be noticed.
    const parent = process.ppid;
    if (opts.stopWithParent) setInterval(() => process.ppid !== parent && process.kill(process.pid, 'SIGTERM'), 1_000).unref();
    const embedded = await startEmbeddedStore({ dataDir: opts.data, port: opts.port, host: opts.host });
    // Applies the migrations once, so the first client does not pay for them.
    await (await openStore(embedded.url)).close();
    console.log(`store: serving ${embedded.url} (PGlite, ${opts.data ? `data in ${opts.data}` : 'in memory'}); Ctrl-C stops it`);
    await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
    await embedded.close();
  });

program
  .command('setup')
  .description("register Pipewright's search attributes (stage, owner, source, SLA status) on the namespace in TEMPORAL_NAMESPACE; once per cluster")
  .action(() =>
    withClient(async (client) => {
      const added = await registerSearchAttributes(client.connection as Connection, client.options.namespace);
      console.log(added.length ? `registered on namespace ${client.options.namespace}: ${added.join(', ')}` : `namespace ${client.options.namespace} already has Pipewright's search attributes`);
    }),
  );

program
  .command('servers')
  .description('find, download or build the Temporal dev server and time-skipping test server; print their paths')
  .option('--cluster', 'also find or build what `dev --cluster` runs: temporal-server, temporal-sql-tool (Go) and the server module with its schemas')
  .action(async (opts: { cluster?: boolean }) => {
    for (const kind of ['dev-server', 'test-server'] as const) {
      console.log(`${kind}: ${await ensureServer(kind, (line) => console.error(line))}`);
    }
    if (opts.cluster) {
      const { ensureClusterServers } = await import('./clusterServers');
      const tools = await ensureClusterServers((line) => console.error(line));
      console.log(`temporal-server: ${tools.server}\ntemporal-sql-tool: ${tools.sqlTool}\nserver module: ${tools.moduleDir}`);
    }
  });

program.parseAsync().catch((err: unknown) => {
  if (err instanceof ValidationError) {
    console.error(`${err.subject} is not valid:`);
    for (const problem of err.problems) console.error(problem);
  } else {
    console.error(`pipewright: ${(err as Error)?.message ?? err}`);
  }
  process.exitCode = 1;
});
