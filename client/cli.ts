#!/usr/bin/env node
// The `pipewright` command. Each subcommand is a thin shell over client/, worker/ and config/.
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../config/load';
import { formatDuration } from '../config/duration';
import { ValidationError } from '../config/validation';
import { connectClient, temporalSettings } from './connection';
import { runDev } from './dev';
import { createIntake } from './intake';
import { addLead, parseLead, sendLeadEvent, showLead } from './leads';
import { defaultConfigFile } from './paths';
import { ensureServer } from './servers';
import { LEAD_EVENTS, type JourneyState } from '../workflows/messages';

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
  .option('--config <file>', 'config for leads added through the intake (PIPEWRIGHT_CONFIG)', defaultConfigFile())
  .action(async (opts: { data: string; port: number; uiPort: number; smtpPort: number; intakePort: number; config: string }) => {
    loadConfig(opts.config);
    await runDev({
      dataDir: opts.data,
      port: opts.port,
      uiPort: opts.uiPort,
      smtpPort: opts.smtpPort,
      intakePort: opts.intakePort,
      configFile: opts.config,
      taskQueue: temporalSettings().taskQueue,
    });
  });

program
  .command('worker')
  .description('run a worker against the Temporal server in TEMPORAL_ADDRESS, sending mail through PIPEWRIGHT_SMTP_URL')
  .action(async () => {
    const { runWorker } = await import('../worker/main');
    await runWorker();
  });

program
  .command('intake')
  .description('serve the HTTP intake (leads, events, unsubscribe links) against the Temporal server in TEMPORAL_ADDRESS')
  .addOption(new Option('--port <port>', 'port to listen on').default(8080).argParser(port))
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--config <file>', 'config for new leads (PIPEWRIGHT_CONFIG)', defaultConfigFile())
  .action(async (opts: { port: number; host: string; config: string }) => {
    loadConfig(opts.config);
    await withClient(async (client, taskQueue) => {
      const intake = createIntake({ client, taskQueue, configFile: opts.config });
      await intake.listen({ host: opts.host, port: opts.port });
      console.log(`intake: listening on http://${opts.host}:${opts.port}`);
      await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
      await intake.close();
    });
  });

const config = program.command('config').description('check config files');
config
  .command('validate <file>')
  .description('exit 0 if the file is valid; otherwise print every problem as "path: message" and exit 1')
  .action((file: string) => {
    const loaded = loadConfig(file);
    const roles = loaded.team.reduce<Record<string, number>>((n, m) => ({ ...n, [m.role]: (n[m.role] ?? 0) + 1 }), {});
    console.log(
      `${file}: valid (${Object.entries(roles).map(([role, n]) => `${n} ${role}`).join(', ')}; nurture cadence of ${loaded.cadences.nurture.steps.length} steps)`,
    );
  });

const lead = program.command('lead').description('start, inspect and update lead journeys');
lead
  .command('add <file>')
  .description('start a journey for the lead in a JSON file ("-" reads standard input) and print its ID')
  .option('--config <file>', 'the config the journey follows (PIPEWRIGHT_CONFIG)', defaultConfigFile())
  .action(async (file: string, opts: { config: string }) => {
    // Both inputs are checked before connecting, so a bad file is reported even with Temporal down.
    const subject = file === '-' ? 'lead (stdin)' : file;
    const leadData = parseLead(readJson(file, subject), subject);
    const cfg = loadConfig(opts.config);
    await withClient(async (client, taskQueue) => {
      const { leadId, started } = await addLead(client, taskQueue, cfg, leadData);
      console.log(leadId);
      if (!started) console.error(`${leadId} already has a journey; nothing new was started`);
    });
  });

lead
  .command('show <id>')
  .description('print where a journey is: stage, owner, SLA, touches sent, next step (ID or lead e-mail)')
  .option('--json', 'print the raw state as JSON')
  .action((id: string, opts: { json?: boolean }) =>
    withClient(async (client) => {
      const state = await showLead(client, id);
      console.log(opts.json ? JSON.stringify(state, null, 2) : describeJourney(state));
    }),
  );

lead
  .command('event <id> <event>')
  .description(`tell a journey what happened: ${LEAD_EVENTS.join(' | ')} (ID or lead e-mail)`)
  .action((id: string, event: string) =>
    withClient(async (client) => {
      await sendLeadEvent(client, id, event);
      console.log(`${event}: delivered to ${id}`);
    }),
  );

program
  .command('servers')
  .description('find, download or build the Temporal dev server and time-skipping test server; print their paths')
  .action(async () => {
    for (const kind of ['dev-server', 'test-server'] as const) {
      console.log(`${kind}: ${await ensureServer(kind, (line) => console.error(line))}`);
    }
  });

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError(`expected a port number, got "${value}"`);
  return n;
}

/** Runs one command's calls on a client for the Temporal server in the environment, then closes it. */
async function withClient(use: (client: Client, taskQueue: string) => Promise<void>): Promise<void> {
  const settings = temporalSettings();
  const client = await connectClient(settings);
  try {
    await use(client, settings.taskQueue);
  } finally {
    await client.connection.close();
  }
}

function readJson(file: string, subject: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ValidationError(subject, [`not valid JSON: ${(err as Error).message}`]);
  }
}

function describeJourney(s: JourneyState & { status: string }): string {
  const when = (iso: string) => `${iso} (${relative(iso)})`;
  const lines = [`${s.leadId}  [${s.status.toLowerCase()}]`, `  stage:   ${s.stage}`];
  if (s.qualification) lines.push(`  ICP fit: ${s.qualification.fits ? 'yes' : `no: ${s.qualification.misses.join('; ')}`}`);
  if (s.owner) lines.push(`  owner:   ${s.owner.name} <${s.owner.email}> (${s.owner.role})`);
  if (s.sla) lines.push(`  SLA:     first touch due ${when(s.sla.due)}: ${s.sla.status}${s.sla.escalatedTo ? `, escalated to ${s.sla.escalatedTo}` : ''}`);
  if (s.firstTouchAt) lines.push(`  touched: ${s.firstTouchAt}`);
  lines.push(`  sent:    ${s.touches.length ? `${s.touches.length} e-mail(s)` : 'nothing yet'}`);
  for (const t of s.touches) lines.push(`    ${t.sentAt}  ${t.cadence} #${t.step}: ${t.subject}`);
  lines.push(`  next:    ${s.next ? `${s.next.what}, due ${when(s.next.dueAt)}` : 'nothing scheduled'}`);
  if (s.repliedAt) lines.push(`  replied: ${s.repliedAt}`);
  if (s.unsubscribedAt) lines.push(`  unsubscribed: ${s.unsubscribedAt}`);
  return lines.join('\n');
}

function relative(iso: string): string {
  const ms = new Date(iso).getTime() - Date.now();
  return ms >= 0 ? `in ${formatDuration(ms)}` : `${formatDuration(-ms)} ago`;
}

program.parseAsync().catch((err: unknown) => {
  if (err instanceof ValidationError) {
    console.error(`${err.subject} is not valid:`);
    for (const problem of err.problems) console.error(problem);
  } else {
    console.error(`pipewright: ${(err as Error)?.message ?? err}`);
  }
  process.exitCode = 1;
});
