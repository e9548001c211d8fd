// Importing a list of leads: a CSV file from a trade show, a bought list or a CRM export, one lead a
// row. Each row is checked as any lead is (parseLead) and starts its journey unless the contact is
// suppressed. A journey's workflow ID is its lead's address and a second start of it is refused, so an
// import that stopped halfway is simply run again: the rows already started are counted, never started
// twice. A row that cannot become a lead is not fatal: it goes to a rejected-rows file with its line and
// the reason, to be fixed and imported again.
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { CsvError, parse, type Info } from 'csv-parse';
import { z } from 'zod';
import { LeadSchema, type Lead } from '../config/lead';
import { parseYaml } from '../config/load';
import type { Config } from '../config/schema';
import { formatPath, parseOrThrow, ValidationError, type Path } from '../config/validation';
import { leadJourneyId } from '../config/vocabulary';
import type { Store } from '../store';
import { addLead, parseLead } from './leads';

/** Rows being started at once: enough to hide a round trip to Temporal and the store, few enough not to swamp a small server. */
export const DEFAULT_CONCURRENCY = 8;
/** Waits before each new attempt at a row Temporal or the store failed (a restarting server, a dropped connection). */
export const DEFAULT_RETRY_DELAYS_MS = [250, 1_000, 4_000];
/** So many rows failing one after another means Temporal or the store is down: reading on would only reject the rest of the file. */
const STOP_AFTER_FAILED_ROWS = 20;

// ---------------------------------------------------------------------------------------------------
// Which column holds which lead field

/** Lead fields a column may fill: every one but `fields` (named one by one under `fields:`) and `bant`. */
export const LEAD_COLUMNS = ['email', 'firstName', 'lastName', 'company', 'title', 'industry', 'region', 'employees', 'source', 'phone', 'timezone', 'country'] as const satisfies readonly (keyof Lead)[];
export type LeadColumn = (typeof LEAD_COLUMNS)[number];

/** The fields a lead cannot do without, as the lead schema says (so this list cannot drift from it). */
export const REQUIRED_COLUMNS: readonly LeadColumn[] = LEAD_COLUMNS.filter((field) => !LeadSchema.shape[field].safeParse(undefined).success);

/** "First Name", "first_name", "FIRSTNAME" and "firstName" are one header; so are "E-mail" and "email". */
const normaliseHeader = (header: string) => header.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Headers CRMs export under names of their own (HubSpot's "Company Name", Salesforce's "No. of Employees"), normalised. */
const HEADER_ALIASES: Readonly<Record<string, LeadColumn>> = {
  emailaddress: 'email',
  companyname: 'company',
  jobtitle: 'title',
  phonenumber: 'phone',
  numberofemployees: 'employees',
  noofemployees: 'employees',
  employeecount: 'employees',
};

const Constant = z.union([z.string(), z.number(), z.boolean()]);
const ColumnOrConstant = z.union([z.string().trim().min(1, { error: 'expected a column header, not an empty text' }), z.strictObject({ value: Constant })], {
  error: 'expected a column header such as "Work Email", or { value: ... } for the same value on every row',
});
type ColumnOrConstant = z.infer<typeof ColumnOrConstant>;

/**
 * A mapping file: for each lead field, the header of the column that holds it, or `{ value: ... }`
 * for every row; `fields:` names the extra template fields (`{{lead.fields.crmId}}`) the same way.
 * A lead field it leaves out still takes the column named like it.
 */
export const LeadMappingSchema = z.strictObject({
  ...(Object.fromEntries(LEAD_COLUMNS.map((field) => [field, ColumnOrConstant.optional()])) as Record<LeadColumn, z.ZodOptional<typeof ColumnOrConstant>>),
  fields: z.record(z.string().min(1).max(64, { error: 'expected a field name of at most 64 characters' }), ColumnOrConstant).optional(),
});
export type LeadMapping = z.infer<typeof LeadMappingSchema>;

/** A mapping and where it came from, so a problem with it names its file and line. */
interface MappingSource {
  subject: string;
  mapping: LeadMapping;
  locate: (path: Path) => string;
}

/** Reads and validates a mapping file; a ValidationError names every bad entry, its line and what was expected. */
export async function loadLeadMapping(file: string): Promise<LeadMapping> {
  return (await readMapping(file)).mapping;
}

async function readMapping(file: string): Promise<MappingSource> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ValidationError(file, [`cannot read the file: ${(err as Error).message}`]);
  }
  const { value: mapping, locate } = parseYaml(LeadMappingSchema, text, file);
  return { subject: file, mapping, locate };
}

/**
 * A constant is checked once, here, as the lead schema would check it: `source: { value: partner }`
 * would otherwise reject every row of the file for the same reason.
 */
function constantProblems(source: MappingSource): string[] {
  const problems: string[] = [];
  for (const field of LEAD_COLUMNS) {
    const binding = source.mapping[field];
    if (binding === undefined || typeof binding === 'string') continue;
    const cell = coerce(field, binding.value);
    const result = 'problem' in cell ? undefined : LeadSchema.shape[field].safeParse(cell.value);
    const messages = 'problem' in cell ? [cell.problem] : result && !result.success ? result.error.issues.map((i) => i.message.replace(/^Invalid input: /, '')) : [];
    for (const message of messages) problems.push(`${field}.value: ${message}${source.locate([field, 'value'])}`);
  }
  return problems;
}

type Binding = { column: number } | { value: string | number | boolean };

/** How each row becomes a lead: the file's header, and where each lead field and extra field comes from. */
export interface ImportPlan {
  header: string[];
  lead: [LeadColumn, Binding][];
  fields: [string, Binding][];
}

const quoteList = (names: string[], max = 20) => names.slice(0, max).map((n) => `"${n}"`).join(', ') + (names.length > max ? `, ... (${names.length} in all)` : '');

/** The columns a mapping entry names: the exact header first, else one written differently ("work email" for "Work Email"). */
function columnsNamed(header: string[], name: string): number[] {
  const where = (match: (h: string) => boolean) => header.flatMap((h, i) => (match(h) ? [i] : []));
  const exact = where((h) => h.trim() === name.trim());
  if (exact.length || !normaliseHeader(name)) return exact;
  return where((h) => normaliseHeader(h) === normaliseHeader(name));
}

/** Matches the header against the mapping (and, for what the mapping leaves out, the lead's own field names). */
function planImport(file: string, header: string[], source?: MappingSource): ImportPlan {
  const mappingProblems = source ? constantProblems(source) : [];
  const headerProblems: string[] = [];
  const columns = `${basename(file)}'s columns are ${quoteList(header.filter((h) => h.trim()))}`;
  const bind = (path: Path, entry: ColumnOrConstant): Binding | undefined => {
    if (typeof entry !== 'string') return { value: entry.value };
    const found = columnsNamed(header, entry);
    const where = source!.locate(path);
    if (found.length === 1) return { column: found[0]! };
    if (found.length === 0) mappingProblems.push(`${formatPath(path)}: no column "${entry}" in ${basename(file)}${where}; ${columns}`);
    else mappingProblems.push(`${formatPath(path)}: ${found.length} columns are named "${entry}"${where}; rename all but one in ${basename(file)}`);
    return undefined;
  };

  const lead: [LeadColumn, Binding][] = [];
  for (const field of LEAD_COLUMNS) {
    const entry = source?.mapping[field];
    if (entry !== undefined) {
      const binding = bind([field], entry);
      if (binding) lead.push([field, binding]);
      continue;
    }
    const matching = header.flatMap((h, i) => {
      const n = normaliseHeader(h);
      return n === normaliseHeader(field) || HEADER_ALIASES[n] === field ? [i] : [];
    });
    if (matching.length === 1) lead.push([field, { column: matching[0]! }]);
    else if (matching.length > 1) {
      const names = matching.map((i) => header[i]!);
      headerProblems.push(`${field}: columns ${quoteList(names)} could each be it; name one in a mapping file (${field}: "${names[0]}")`);
    } else if (REQUIRED_COLUMNS.includes(field)) {
      headerProblems.push(`${field}: required, and no column is named so`);
    }
  }
  if (headerProblems.length) {
    headerProblems.push(`(header): ${columns}; rename a column, or name the columns in a mapping file (--mapping: field: "Your Column", or field: { value: ... } for every row)`);
  }
  const fields: [string, Binding][] = [];
  for (const [name, entry] of Object.entries(source?.mapping.fields ?? {})) {
    const binding = bind(['fields', name], entry);
    if (binding) fields.push([name, binding]);
  }

  if (header.length === 1 && /[;\t|]/.test(header[0]!)) {
    headerProblems.unshift(`(header): one column "${header[0]}": is the file separated by "${/;/.test(header[0]!) ? ';' : /\t/.test(header[0]!) ? 'tab' : '|'}"? Lead lists are read comma-separated`);
  }
  if (mappingProblems.length) throw new ValidationError(source!.subject, mappingProblems);
  if (headerProblems.length) throw new ValidationError(file, headerProblems);
  return { header, lead, fields };
}

// ---------------------------------------------------------------------------------------------------
// Reading the file

interface CsvRow {
  cells: string[];
  /** The line the row starts on (a quoted cell may span lines), as an editor numbers it. */
  line: number;
}

/** Why a file cannot be read as CSV, at which line. */
function csvProblem(file: string, err: unknown): Error {
  if (err instanceof CsvError) return new ValidationError(file, [`not a CSV file Pipewright can read: ${err.message}`]);
  return new Error(`${file}: cannot read: ${(err as Error).message}`);
}

/** The file's rows, streamed (a list of 100,000 leads is never in memory at once), the header first. */
async function* csvRows(file: string): AsyncGenerator<CsvRow> {
  const input = createReadStream(file);
  const parser = parse({
    bom: true,
    // A row with a cell too many is rejected with a reason rather than stopping the import.
    relax_column_count: true,
    // A nickname in quotes (Robert "Bob" Smith) is text, not a broken file.
    relax_quotes: true,
    skip_empty_lines: true,
    // Spreadsheets save blank rows as ",,,,".
    skip_records_with_empty_values: true,
    info: true,
  });
  input.on('error', (err) => parser.destroy(err));
  input.pipe(parser);
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: Info }>) {
      // info.lines is where the row ends; a quoted cell's own line breaks are the difference.
      const breaks = record.reduce((n, cell) => n + (cell.match(/\r\n|\r|\n/g)?.length ?? 0), 0);
      yield { cells: record, line: info.lines - breaks };
    }
  } catch (err) {
    throw csvProblem(file, err);
  } finally {
    input.destroy();
    parser.destroy();
  }
}

/** What a lead list holds, checked before anything is started. */
export interface CheckedLeadList {
  plan: ImportPlan;
  /** Rows after the header (blank ones not counted). */
  rows: number;
  /** The file began with a UTF-8 byte order mark (Excel's "CSV UTF-8"): the rejected-rows file gets one too, so Excel reads its accents. */
  bom: boolean;
}

export interface LeadListSource {
  file: string;
  /** A mapping file, or a mapping already read. */
  mapping?: string | LeadMapping;
  /** Where rejected rows go; refused when it is the list itself. */
  rejectedFile?: string;
}

/**
 * Reads the whole file once and matches its header against the mapping: a file that cannot be read,
 * is not CSV, has no header, or lacks a column the mapping names is an error here, before any journey
 * starts. (Parsing is cheap beside starting journeys: a second read costs little.)
 */
export async function checkLeadList({ file, mapping, rejectedFile }: LeadListSource): Promise<CheckedLeadList> {
  let bom = false;
  try {
    const handle = await open(file, 'r');
    try {
      if (!(await handle.stat()).isFile()) throw new Error('not a file');
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(3), 0, 3, 0);
      bom = bytesRead === 3 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf;
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw new Error(`${file}: cannot read: ${(err as Error).message}`);
  }
  if (rejectedFile !== undefined && resolve(rejectedFile) === resolve(file)) {
    throw new Error(`${file}: the rejected rows would overwrite the list itself; give --rejected another file`);
  }
  const source = typeof mapping === 'string' ? await readMapping(mapping) : mapping && { subject: 'mapping', mapping: parseOrThrow(LeadMappingSchema, mapping, 'mapping'), locate: () => '' };
  let header: string[] | undefined;
  let rows = 0;
  for await (const row of csvRows(file)) {
    if (header) rows++;
    else header = row.cells;
  }
  if (!header) throw new ValidationError(file, ['(header): the file is empty; expected a first line naming the columns, e.g. "email,First Name,company,industry,region,employees,source"']);
  return { plan: planImport(file, header, source), rows, bom };
}

// ---------------------------------------------------------------------------------------------------
// Rows into leads

/** A cell as the lead field wants it: a head count is a number ("1,200" is 1200). */
function coerce(field: string, value: string | number | boolean): { value: string | number | boolean } | { problem: string } {
  if (field !== 'employees' || typeof value !== 'string') return { value };
  // Thousands separators as spreadsheets write them; nothing else (Number() alone would take "0x10" or "1e3").
  const digits = value.replace(/[\s,_']/g, '');
  return /^[+-]?\d+(\.\d+)?$/.test(digits) ? { value: Number(digits) } : { problem: `expected a whole number such as 120, got "${value}"` };
}

type BuiltLead = { lead: Lead } | { reason: string };

/** A row's lead, or why it is not one: every problem, each naming its field and what was expected. */
function leadOf(plan: ImportPlan, row: CsvRow): BuiltLead {
  const problems: string[] = [];
  const valueOf = (binding: Binding): string | number | boolean | undefined => {
    if ('value' in binding) return binding.value;
    // Surrounding spaces are a spreadsheet's, not the lead's; an empty cell means "not known".
    const cell = row.cells[binding.column]?.trim();
    return cell === '' ? undefined : cell;
  };
  const data: Record<string, unknown> = {};
  const uncoerced = new Set<string>();
  for (const [field, binding] of plan.lead) {
    const value = valueOf(binding);
    if (value === undefined) continue;
    const cell = coerce(field, value);
    if ('problem' in cell) {
      problems.push(`${field}: ${cell.problem}`);
      uncoerced.add(field);
    } else data[field] = cell.value;
  }
  const fields = Object.fromEntries(plan.fields.flatMap(([name, binding]) => {
    const value = valueOf(binding);
    return value === undefined ? [] : [[name, value]];
  }));
  if (Object.keys(fields).length) data.fields = fields;
  if (row.cells.length > plan.header.length) {
    problems.push(`(row): ${row.cells.length} cells, and the header names ${plan.header.length}; a cell with a comma in it needs double quotes`);
  }
  try {
    const lead = parseLead(data, `line ${row.line}`);
    return problems.length ? { reason: problems.join('; ') } : { lead };
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    // A head count that was not a number is said once, in words, not again as "required".
    problems.push(...err.problems.filter((p) => !uncoerced.has(p.split(':')[0]!)));
    return { reason: problems.join('; ') };
  }
}

// ---------------------------------------------------------------------------------------------------
// The rejected-rows file

const csvCell = (value: string) => (/[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value);
const csvLine = (cells: string[]) => `${cells.map(csvCell).join(',')}\n`;

/**
 * The rows that were not started, with the list's own columns, so the file can be fixed and imported
 * as it is (`line` and `reason` are no lead field names, so an import ignores them).
 */
class RejectedRows {
  count = 0;
  private constructor(
    readonly file: string,
    private readonly out: WriteStream,
    private readonly width: number,
  ) {}

  static async open(file: string, header: string[], bom: boolean): Promise<RejectedRows> {
    const out = createWriteStream(file);
    try {
      await once(out, 'open');
    } catch (err) {
      throw new Error(`${file}: cannot write the rejected rows there: ${(err as Error).message}`);
    }
    const rejected = new RejectedRows(file, out, header.length);
    await rejected.write(`${bom ? '\ufeff' : ''}${csvLine([...header, 'line', 'reason'])}`);
    return rejected;
  }

  async add(row: CsvRow, reason: string): Promise<void> {
    this.count++;
    const cells = Array.from({ length: this.width }, (_, i) => row.cells[i] ?? '');
    await this.write(csvLine([...cells, String(row.line), reason]));
  }

  /** Closes the file; with no row in it, removes it, so a rejected file left by an earlier run never outlives its fix. */
  async close(): Promise<void> {
    this.out.end();
    await once(this.out, 'close');
    if (this.count === 0) await unlink(this.file).catch(() => undefined);
  }

  private async write(text: string): Promise<void> {
    if (!this.out.write(text)) await once(this.out, 'drain');
  }
}

// ---------------------------------------------------------------------------------------------------
// The import

export interface ImportCounts {
  /** Rows after the header (blank ones not counted) read so far. */
  rowsRead: number;
  /** Journeys started (in a dry run: that would be). */
  started: number;
  /** Leads whose journey already exists (running, or ended: a lead is never started twice), and rows repeating an earlier row's e-mail. */
  alreadyRunning: number;
  /** Of alreadyRunning: rows whose e-mail an earlier row of the same file had. */
  duplicates: number;
  /** Contacts suppressed for e-mail (or every channel): no journey started. */
  suppressed: number;
  /** Rows in the rejected file: not leads, or not started. */
  rejected: number;
  /** Of rejected: valid leads Temporal or the store failed to start; running the import again starts them. */
  notStarted: number;
}

export interface ImportProgress extends ImportCounts {
  /** Rows handled so far (each counted once it is started, found running, suppressed or rejected). */
  done: number;
  /** Rows in the file. */
  total: number;
}

export interface ImportSummary extends ImportCounts {
  file: string;
  dryRun: boolean;
  /** The config version the journeys follow (none in a dry run). */
  configVersion?: number;
  /** The rejected-rows file, when a row was rejected. */
  rejectedFile?: string;
  seconds: number;
  rowsPerSecond: number;
}

interface ImportCommon extends LeadListSource {
  client: Client;
  store: Store;
  taskQueue: string;
  concurrency?: number;
  onProgress?: (progress: ImportProgress) => void;
  /** Waits before each retry of a row Temporal or the store failed; their number is the retries. */
  retryDelaysMs?: number[];
  /** What checkLeadList found, when the caller checked the list already (the CLI does, before connecting): not read again. */
  checked?: CheckedLeadList;
}

/** A dry run starts nothing, so it needs no config; an import does. */
export type ImportOptions = ImportCommon & ({ dryRun: true; config?: Config; configVersion?: number } | { dryRun?: false; config: Config; configVersion?: number });

/** The import stopped before the end of the file; `summary` says what it did until then. */
export class LeadImportStopped extends Error {
  constructor(
    message: string,
    readonly summary: ImportSummary,
  ) {
    super(message);
    this.name = 'LeadImportStopped';
  }
}

export const defaultRejectedFile = (file: string) => `${file}.rejected.csv`;

type Outcome = 'started' | 'alreadyRunning' | 'suppressed';

/** An error on one line, with its causes: the SDK wraps gRPC failures ("Unexpected error while making gRPC request") around what happened. */
function oneLine(err: unknown): string {
  const messages: string[] = [];
  for (let e: unknown = err; e !== undefined && e !== null && messages.length < 4; e = (e as Error).cause) {
    const message = String((e as Error)?.message ?? e).replace(/\s+/g, ' ').trim();
    if (message && !messages.some((m) => m.includes(message))) messages.push(message);
    if (typeof e !== 'object') break;
  }
  return messages.join(': ');
}
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/**
 * Imports a lead list: every valid row starts its journey (or, with dryRun, is checked as if it
 * would), at most `concurrency` at a time. Resolves with the counts once every row is handled; throws
 * before starting anything when the file or the mapping is unusable, and LeadImportStopped (with the
 * counts so far) when the file turned out not to be CSV halfway, or Temporal or the store kept failing.
 */
export async function importLeads(options: ImportOptions): Promise<ImportSummary> {
  const startedAt = performance.now();
  const { client, store, taskQueue, file } = options;
  const dryRun = options.dryRun === true;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const retryDelays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const rejectedFile = options.rejectedFile ?? defaultRejectedFile(file);
  const { plan, rows: total, bom } = options.checked ?? (await checkLeadList({ file, mapping: options.mapping, rejectedFile }));

  const counts: ImportCounts = { rowsRead: 0, started: 0, alreadyRunning: 0, duplicates: 0, suppressed: 0, rejected: 0, notStarted: 0 };
  let done = 0;
  const handled = () => {
    done++;
    options.onProgress?.({ ...counts, done, total });
  };

  /** Where this lead stands; throws what Temporal or the store threw. */
  const journeyFor = async (lead: Lead): Promise<Outcome> => {
    // An unsubscribed or bounced contact gets no new journey at all: an import is a marketing list.
    if (dryRun || !options.config) {
      if (await store.suppressionFor(lead.email, 'email')) return 'suppressed';
      return (await hasJourney(client, lead)) ? 'alreadyRunning' : 'started';
    }
    const { started, suppressed } = await addLead(client, store, taskQueue, options.config, lead, options.configVersion, { skipSuppressed: true });
    return suppressed ? 'suppressed' : started ? 'started' : 'alreadyRunning';
  };

  const rejected = await RejectedRows.open(rejectedFile, plan.header, bom);
  let failedInARow = 0;
  /** Set when reading must stop: the file broke, or Temporal or the store is down. */
  let stopped: string | undefined;
  const reject = async (row: CsvRow, reason: string) => {
    counts.rejected++;
    try {
      await rejected.add(row, reason);
    } catch (err) {
      stopped ??= `cannot write ${rejectedFile}: ${oneLine(err)}`;
    }
  };

  const startRow = async (row: CsvRow, lead: Lead): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        counts[await journeyFor(lead)]++;
        failedInARow = 0;
        break;
      } catch (err) {
        if (attempt < retryDelays.length) {
          await sleep(retryDelays[attempt]!);
          continue;
        }
        counts.notStarted++;
        await reject(row, `${dryRun ? 'not checked' : 'not started'}: ${oneLine(err)}; run the import again`);
        if (++failedInARow >= STOP_AFTER_FAILED_ROWS) {
          stopped ??= `${failedInARow} rows in a row could not be ${dryRun ? 'checked' : 'started'} (the last at line ${row.line}: ${oneLine(err)}); Temporal or the store seems down`;
        }
        break;
      }
    }
    handled();
  };

  /** The journeys this file has started or found, so a repeated e-mail is one journey. */
  const seen = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  let stoppedAtLine: number | undefined;
  try {
    let header = true;
    for await (const row of csvRows(file)) {
      if (header) {
        header = false;
        continue;
      }
      if (stopped) {
        stoppedAtLine = row.line;
        break;
      }
      counts.rowsRead++;
      const built = leadOf(plan, row);
      if ('reason' in built) {
        await reject(row, built.reason);
        handled();
        continue;
      }
      const id = leadJourneyId(built.lead);
      if (seen.has(id)) {
        counts.alreadyRunning++;
        counts.duplicates++;
        handled();
        continue;
      }
      seen.add(id);
      const task: Promise<void> = startRow(row, built.lead).finally(() => inFlight.delete(task));
      inFlight.add(task);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
  } catch (err) {
    // The file changed since it was checked, or broke past the check: stop, but finish what started.
    stopped ??= oneLine(err);
  }
  await Promise.all(inFlight);
  await rejected.close();

  const seconds = (performance.now() - startedAt) / 1000;
  const summary: ImportSummary = {
    file,
    dryRun,
    ...(!dryRun && options.configVersion !== undefined && { configVersion: options.configVersion }),
    ...counts,
    ...(rejected.count > 0 && { rejectedFile }),
    seconds,
    rowsPerSecond: counts.rowsRead / Math.max(seconds, 1e-3),
  };
  if (stopped) {
    const where = stoppedAtLine !== undefined ? `; the rows from line ${stoppedAtLine} on were not read` : '';
    throw new LeadImportStopped(`${file}: the import stopped: ${stopped}${where}. Run it again once fixed: the rows already started are not started twice`, summary);
  }
  return summary;
}

/** Whether the lead has a journey, running or ended (a start would be refused either way). */
async function hasJourney(client: Client, lead: Lead): Promise<boolean> {
  try {
    await client.workflow.getHandle(leadJourneyId(lead)).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError || (err as Error)?.name === 'WorkflowNotFoundError') return false;
    throw err;
  }
}
