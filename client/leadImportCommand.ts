// `pipewright lead import FILE.csv`: the command around client/leadImport.ts. It checks the list before
// connecting to anything, shows progress on stderr, and prints the counts on stdout (or as JSON).
import { Presets, SingleBar } from 'cli-progress';
import { Option, type Command } from 'commander';
import { positive, withClient, withStore } from './commandContext';
import { ACTIVE_CONFIG_HELP, refuseConfigOption, removedConfigOption } from './configCommands';
import { activeConfig, actor } from './configVersions';
import { checkLeadList, DEFAULT_CONCURRENCY, defaultRejectedFile, importLeads, LEAD_COLUMNS, LeadImportStopped, REQUIRED_COLUMNS, type ImportProgress, type ImportSummary } from './leadImport';

/** Without a terminal (a CI log, a pipe), a line this often instead of a bar. */
const LOG_EVERY_ROWS = 1_000;

const optionalColumns = LEAD_COLUMNS.filter((field) => !REQUIRED_COLUMNS.includes(field));

const IMPORT_HELP = `
A lead list is a CSV file (comma-separated, UTF-8, a header line first), one lead a row.

Columns: a column whose header is a lead field's name is that field, however it is
written: "First Name", "first_name" and "firstName" are all firstName, "E-mail" is
email (and "Company Name", "Job Title", "No. of Employees" are understood too).
  required: ${REQUIRED_COLUMNS.join(', ')}
            (source: inbound or outbound)
  optional: ${optionalColumns.join(', ')}
Other columns are ignored unless a mapping names them. An empty cell is a field not
known; employees may be written "1,200".

A mapping (--mapping FILE, YAML) names, for a lead field, the header of its column,
or { value: ... } for every row, and under "fields" the extra fields templates use
as {{lead.fields.NAME}}. A lead field it leaves out still takes the column named
like it. For example (config/examples/leads/import-mapping.yaml is another):
  email: Work Email
  firstName: Given Name
  company: Account
  source: { value: outbound }
  fields:
    crmId: CRM ID

Each row is checked as \`lead add\` checks a lead. A contact suppressed for e-mail
(unsubscribed, bounced, \`contact suppress\`) gets no journey. A row that is not a
valid lead is rejected, not fatal: it goes to the rejected file (FILE.rejected.csv
next to FILE, or --rejected) with the list's own columns plus "line" and "reason"
(which field, and what was expected). Fix the rows there and import that file. A
run that rejects nothing removes the rejected file an earlier run left.

Running an import again is safe: a lead's journey ID comes from its e-mail address, and a
journey is never started twice (not even one that has ended). So after a failure,
run the same import again: it starts only the rows that did not start, and counts
the others as "already running"; a row repeating an e-mail starts no second journey.
The whole file is read and its header checked against the mapping before anything
starts. --dry-run checks every row, suppression and existing journey, and says
what an import would start; it starts nothing and applies no config version.

Exit status: 0 when every row was handled, rejected rows included; 1 when nothing
started (the file, the mapping, the store or Temporal), when the import stopped
halfway, or when a row could not be started because Temporal or the store failed
(run the import again to start those).
${ACTIVE_CONFIG_HELP}`;

interface ImportCommandOptions {
  mapping?: string;
  dryRun?: boolean;
  rejected?: string;
  concurrency: number;
  json?: boolean;
  config?: string;
}

export function registerLeadImport(lead: Command): void {
  lead
    .command('import <file>')
    .description('start a journey for each lead in a CSV file (one lead a row) on the active config version; safe to run again')
    .option('--mapping <file>', 'a YAML file naming the column of each lead field, or one value for every row (see below)')
    .option('--dry-run', 'check every row, suppression and existing journey, and print what an import would do; start nothing')
    .option('--rejected <file>', 'where the rows not started go, with their line and reason (default: FILE.rejected.csv)')
    .addOption(new Option('--concurrency <n>', 'rows being started at once').default(DEFAULT_CONCURRENCY).argParser(positive))
    .option('--json', 'print the summary as JSON')
    .addOption(removedConfigOption())
    .addHelpText('after', IMPORT_HELP)
    .action(async (file: string, opts: ImportCommandOptions) => {
      refuseConfigOption('lead import', opts.config);
      const rejectedFile = opts.rejected ?? defaultRejectedFile(file);
      // The list is checked before connecting: a broken file or mapping is reported even with Temporal
      // down, and nothing is started.
      const checked = await checkLeadList({ file, mapping: opts.mapping, rejectedFile });
      await withStore(async (store) => {
        // A dry run starts nothing, so it does not apply a first config version either. On first use an
        // import applies PIPEWRIGHT_CONFIG (else the example); `config history` shows "(first lead import)".
        const active = opts.dryRun ? undefined : await activeConfig(store, undefined, actor('first lead import'));
        await withClient(async (client, taskQueue) => {
          const progress = progressDisplay(checked.rows, opts.dryRun === true);
          let summary: ImportSummary;
          try {
            const common = { client, store, taskQueue, file, checked, rejectedFile, concurrency: opts.concurrency, onProgress: progress.update };
            summary = active ? await importLeads({ ...common, config: active.config, configVersion: active.version }) : await importLeads({ ...common, dryRun: true });
          } catch (err) {
            progress.stop();
            if (!(err instanceof LeadImportStopped)) throw err;
            // What was done before the stop is said too: those rows need nothing more.
            console.log(opts.json ? JSON.stringify({ ...err.summary, stopped: err.message }, null, 2) : describeImport(err.summary));
            throw new Error(err.message);
          }
          progress.stop();
          console.log(opts.json ? JSON.stringify(summary, null, 2) : describeImport(summary));
          if (summary.notStarted > 0) process.exitCode = 1;
        });
      });
    });
}

const count = (n: number) => n.toLocaleString('en-US');

/** The summary as an operator reads it: one line per outcome, and where the rejected rows are. */
export function describeImport(s: ImportSummary): string {
  const row = (label: string, n: number, note = '') => `  ${label.padEnd(16)} ${count(n).padStart(7)}${note}`;
  const on = s.dryRun ? '; dry run: nothing was started' : s.configVersion !== undefined ? `; journeys on config version ${s.configVersion}` : '';
  const rejectedNote = s.rejectedFile
    ? `  -> ${s.rejectedFile} (each with its line and reason${s.notStarted ? `; ${count(s.notStarted)} valid but not ${s.dryRun ? 'checked' : 'started'}: run the import again` : ''})`
    : '';
  return [
    `${s.file}: ${count(s.rowsRead)} rows read in ${s.seconds.toFixed(1)} s (${s.rowsPerSecond.toFixed(1)} rows/s)${on}`,
    row(s.dryRun ? 'would start' : 'started', s.started),
    row('already running', s.alreadyRunning, s.duplicates ? `  (${count(s.duplicates)} repeating an earlier row's e-mail)` : ''),
    row('suppressed', s.suppressed, s.suppressed ? '  (no journey: suppressed for e-mail)' : ''),
    row('rejected', s.rejected, rejectedNote),
  ].join('\n');
}

/** A bar on a terminal; otherwise a line every LOG_EVERY_ROWS rows, so a log shows the import moving. */
function progressDisplay(total: number, dryRun: boolean): { update: (p: ImportProgress) => void; stop: () => void } {
  const started = dryRun ? 'would start' : 'started';
  if (process.stderr.isTTY) {
    const bar = new SingleBar(
      {
        format: `lead import [{bar}] {value}/{total} rows | {started} ${started}, {running} already running, {suppressed} suppressed, {rejected} rejected | {eta_formatted} left`,
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 200,
      },
      Presets.shades_classic,
    );
    bar.start(total, 0, { started: 0, running: 0, suppressed: 0, rejected: 0 });
    let stopped = false;
    return {
      update: (p) => bar.update(p.done, { started: p.started, running: p.alreadyRunning, suppressed: p.suppressed, rejected: p.rejected }),
      stop: () => {
        if (!stopped) bar.stop();
        stopped = true;
      },
    };
  }
  return {
    update: (p) => {
      if (p.done % LOG_EVERY_ROWS === 0 && p.done < p.total) {
        console.error(`lead import: ${count(p.done)}/${count(p.total)} rows: ${count(p.started)} ${started}, ${count(p.alreadyRunning)} already running, ${count(p.suppressed)} suppressed, ${count(p.rejected)} rejected`);
      }
    },
    stop: () => undefined,
  };
}
