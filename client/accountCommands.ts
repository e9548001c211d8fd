// `pipewright account ...`: outbound target accounts and their tier programs.
import { Command, Option } from 'commander';
import { CONTACT_EVENTS } from '../workflows/messages';
import { describeAccount, addAccount, parseAccount, sendAccountEvent, showAccount } from './accounts';
import { readJson, withClient, withStore } from './commandContext';
import { ACTIVE_CONFIG_HELP } from './configCommands';
import { activeConfig, actor } from './configVersions';

export function registerAccountCommands(program: Command): void {
  const account = program.command('account').description('outbound target accounts: one tier program per account, coordinating its contacts');

  account
    .command('add <file>')
    .description('start the tier program for the account in a JSON file ("-" reads standard input): name, domain, tier, owner, contacts')
    .addHelpText('after', ACTIVE_CONFIG_HELP)
    .action(async (file: string) => {
      // Checked before connecting, so a bad file is reported even with Temporal down.
      const subject = file === '-' ? 'account (stdin)' : file;
      const data = parseAccount(readJson(file, subject), subject);
      await withStore(async (store) => {
        const active = await activeConfig(store, undefined, actor('first account add'));
        await withClient(async (client, taskQueue) => {
          const { programId, started, suppressed } = await addAccount(client, store, taskQueue, active.config, data, active.version);
          console.log(programId);
          if (!started) console.error(`${programId} already has a program; nothing new was started`);
          for (const email of suppressed) console.error(`${email}: suppressed; the program will not contact them`);
        });
      });
    });

  account
    .command('show <domain>')
    .description("print the program: tier and why, owner, each contact's cadence, touches, open tasks and next touch (domain or program ID)")
    .option('--json', 'print the raw state as JSON')
    .action((domain: string, opts: { json?: boolean }) =>
      withClient(async (client) => {
        const state = await showAccount(client, domain);
        console.log(opts.json ? JSON.stringify(state, null, 2) : describeAccount(state));
      }),
    );

  const accountEvent = account
    .command('event <domain> <event>')
    .description(`tell a program what one of its contacts did: ${CONTACT_EVENTS.join(' | ')}; a reply or meeting stops it for everyone`)
    .requiredOption('--contact <email>', 'the contact it is about');
  eventDetailOptions(accountEvent).action((domain: string, event: string, opts: { contact: string; channel?: string; outcome?: string; until?: string }) =>
      withStore((store) =>
        withClient(async (client) => {
          const { delivered } = await sendAccountEvent(client, store, domain, { type: event, ...opts }, 'cli');
          console.log(`${event} from ${opts.contact}: ${delivered ? `delivered to ${domain}` : 'recorded (no running program)'}`);
        }),
      ),
    );
}

/** Options every event command shares: what a touch was, and when a pause ends. */
export function eventDetailOptions(command: Command): Command {
  return command
    .addOption(new Option('--channel <channel>', 'for touched: call, linkedin, email, sms, other'))
    .addOption(new Option('--outcome <text>', 'for touched: what happened ("voicemail", "connected")'))
    .addOption(new Option('--until <date>', 'for paused: the return date (ISO, e.g. 2027-01-05)'));
}

/** A lead's events also say who touched, the notes handed on, why a deal was lost, and BANT. */
export function leadEventOptions(command: Command): Command {
  const yesNo = (v: string) => (/^(yes|true|y)$/i.test(v) ? true : /^(no|false|n)$/i.test(v) ? false : v);
  return eventDetailOptions(command)
    .addOption(new Option('--by <email>', 'for touched: the rep who made the touch (only the owner\'s touch meets an SLA)'))
    .addOption(new Option('--notes <text>', 'for meeting-booked, opportunity: notes for the next owner'))
    .addOption(new Option('--reason <text>', 'for closed-lost: why the deal was lost'))
    .addOption(new Option('--budget <amount|yes|no>', 'for bant: the budget, or whether there is one').argParser((v) => (/^\d+(\.\d+)?$/.test(v) ? Number(v) : yesNo(v))))
    .addOption(new Option('--authority <yes|no>', 'for bant: whether they decide').argParser(yesNo))
    .addOption(new Option('--need <text|yes|no>', 'for bant: the need, or whether there is one').argParser(yesNo))
    .addOption(new Option('--timeline <text>', 'for bant: when they mean to buy ("Q1", "this year")'));
}
