// `lead import`: lead lists from CSV files, on the Temporal dev server with a worker running the
// journeys, the store on PGlite and a real SMTP sink. Every outcome is read back from Temporal (the
// journey exists, with the lead its row made), the store or the files written.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { parse } from 'csv-parse';
import { importLeads, LeadImportStopped, type ImportOptions, type ImportSummary } from '../client/leadImport';
import { addLead } from '../client/leads';
import { startMailSink, type MailSink } from '../client/mailSink';
import { packageRoot } from '../client/paths';
import type { Lead } from '../config/lead';
import type { Config } from '../config/schema';
import { ValidationError } from '../config/validation';
import { leadJourneyId } from '../config/vocabulary';
import type { JourneyInput } from '../workflows/messages';
import { pipewright } from './support/cli';
import { sandboxConfig, sandboxConfigFile, sdrNoticeAbout } from './support/fixtures';
import { embeddedTestStore, type TestStore } from './support/store';
import { bundleWorkflows, devServerEnv, testWorker } from './support/temporal';

const taskQueue = 'lead-import-tests';
const dir = mkdtempSync(join(tmpdir(), 'pipewright-import-'));
const examples = join(packageRoot(), 'config', 'examples', 'leads');
let env: TestWorkflowEnvironment;
let sink: MailSink;
let db: TestStore;
let worker: Worker;
let running: Promise<void>;
let config: Config;

beforeAll(async () => {
  const [bundle] = await Promise.all([
    bundleWorkflows(),
    devServerEnv().then((e) => (env = e)),
    startMailSink().then((s) => (sink = s)),
    embeddedTestStore().then((s) => (db = s)),
  ]);
  config = sandboxConfig();
  worker = await testWorker(env, bundle, sink, db.store, taskQueue);
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await sink?.close();
  await db?.close();
  await env?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
/** An address no other test uses. */
const address = (who: string) => `${who}${++n}.${process.pid}@import-${n}.example`;

const HEADER = 'E-mail,First Name,last_name,Company,Job Title,Industry,Region,Employees,Source,Booth Notes';
/** A row that fits the example ICP (routed to an SDR at once), under HEADER. */
const row = (email: string, overrides: Partial<Record<'firstName' | 'company' | 'industry' | 'employees' | 'source', string>> = {}) =>
  [email, overrides.firstName ?? 'Dana', 'Whitfield', overrides.company ?? 'Northwind', 'VP Operations', overrides.industry ?? 'manufacturing', 'us-northeast', overrides.employees ?? '120', overrides.source ?? 'inbound', 'met at booth 12'].join(',');

function listFile(lines: string[], name = `list-${++n}.csv`): string {
  const file = join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

type Common = Omit<ImportOptions, 'client' | 'store' | 'taskQueue' | 'config' | 'dryRun'>;
const run = (options: Common): Promise<ImportSummary> => importLeads({ client: env.client, store: db.store, taskQueue, config, ...options });
const dryRun = (options: Common): Promise<ImportSummary> => importLeads({ client: env.client, store: db.store, taskQueue, dryRun: true, ...options });

/** The journey's status, or undefined when the lead has none. */
async function journeyStatus(email: string): Promise<string | undefined> {
  try {
    return (await env.client.workflow.getHandle(leadJourneyId({ email })).describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** The lead a journey was started with, from its first history event. */
async function startedWith(email: string): Promise<Lead> {
  const history = await env.client.workflow.getHandle(leadJourneyId({ email })).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  return defaultPayloadConverter.fromPayload<JourneyInput>(payload!).lead;
}

function readCsv(file: string): Promise<Record<string, string>[]> {
  return new Promise((resolve, reject) =>
    parse(readFileSync(file, 'utf8'), { columns: true, bom: true }, (err, records: Record<string, string>[]) => (err ? reject(err) : resolve(records))),
  );
}

const counts = (s: ImportSummary) => ({ rowsRead: s.rowsRead, started: s.started, alreadyRunning: s.alreadyRunning, duplicates: s.duplicates, suppressed: s.suppressed, rejected: s.rejected, notStarted: s.notStarted });

test('each good row starts a journey with the lead its columns make; a bad row is rejected with its line and reason', async () => {
  const [a, b, bad, c] = [address('a'), address('b'), address('bad'), address('c')];
  const file = listFile([
    HEADER,
    row(a, { employees: '"1,200"' }),
    row(b, { firstName: '"  Mina "' }),
    // Line 4: a head count in words, and no industry.
    row(bad, { employees: 'lots', industry: '' }),
    '',
    row(c, { company: '"Greenline, Ltd."' }),
  ]);
  const progress: number[] = [];
  const summary = await run({ file, onProgress: (p) => progress.push(p.done) });

  expect(counts(summary)).toEqual({ rowsRead: 4, started: 3, alreadyRunning: 0, duplicates: 0, suppressed: 0, rejected: 1, notStarted: 0 });
  expect(summary).toMatchObject({ file, dryRun: false, rejectedFile: `${file}.rejected.csv` });
  expect(progress).toEqual([1, 2, 3, 4]);

  for (const email of [a, b, c]) expect(await journeyStatus(email)).toBe('RUNNING');
  expect(await journeyStatus(bad)).toBeUndefined();
  // "First Name", "last_name" and "Job Title" found their fields; the head count became a number;
  // "Booth Notes" is no lead field and no mapping named it.
  expect(await startedWith(a)).toEqual({
    email: a,
    firstName: 'Dana',
    lastName: 'Whitfield',
    company: 'Northwind',
    title: 'VP Operations',
    industry: 'manufacturing',
    region: 'us-northeast',
    employees: 1200,
    source: 'inbound',
  });
  expect(await startedWith(b)).toMatchObject({ firstName: 'Mina' });
  expect(await startedWith(c)).toMatchObject({ company: 'Greenline, Ltd.' });
  // The journeys run: the worker sends the SDR's notice of a lead that fits (a's 1,200 people are
  // outside the example ICP: a is nurtured, and its first e-mail goes to the lead).
  await sink.waitFor(sdrNoticeAbout({ email: b }), 30_000);
  await sink.waitFor((m) => m.to.includes(a), 30_000);
  expect(await db.store.contact(b)).toMatchObject({ firstName: 'Mina', lastName: 'Whitfield', company: 'Northwind' });

  const rejected = await readCsv(summary.rejectedFile!);
  expect(rejected).toHaveLength(1);
  expect(rejected[0]).toMatchObject({ 'E-mail': bad, Employees: 'lots', Industry: '', line: '4' });
  expect(rejected[0]!.reason).toContain('employees: expected a whole number such as 120, got "lots"');
  expect(rejected[0]!.reason).toContain('industry: required');
  // The head count is said once, in words, not again as "required".
  expect(rejected[0]!.reason).not.toContain('employees: required');
});

test('a contact suppressed for e-mail or on every channel gets no journey; one suppressed for SMS only does', async () => {
  const [unsubscribed, bounced, noSms, fresh] = [address('unsub'), address('bounced'), address('nosms'), address('fresh')];
  await db.store.suppress({ email: unsubscribed, channel: 'all', reason: 'unsubscribed', source: 'link' });
  await db.store.suppress({ email: bounced.toUpperCase(), channel: 'email', reason: 'bounced: 550 no such user', source: 'bounce' });
  await db.store.suppress({ email: noSms, channel: 'sms', reason: 'STOP', source: 'api' });
  const file = listFile([HEADER, row(unsubscribed), row(bounced), row(noSms), row(fresh)]);

  const summary = await run({ file });
  expect(counts(summary)).toEqual({ rowsRead: 4, started: 2, alreadyRunning: 0, duplicates: 0, suppressed: 2, rejected: 0, notStarted: 0 });
  expect(await journeyStatus(unsubscribed)).toBeUndefined();
  expect(await journeyStatus(bounced)).toBeUndefined();
  expect(await journeyStatus(noSms)).toBe('RUNNING');
  expect(await journeyStatus(fresh)).toBe('RUNNING');
  // Nothing rejected: no rejected file is left behind.
  expect(summary.rejectedFile).toBeUndefined();
  expect(existsSync(`${file}.rejected.csv`)).toBe(false);
});

test('an e-mail repeated in the file (in any case) starts one journey; the repeats count as already running', async () => {
  const [a, b] = [address('dup'), address('once')];
  const file = listFile([HEADER, row(a, { firstName: 'First' }), row(a.toUpperCase(), { firstName: 'Second' }), row(b), row(a, { firstName: 'Third' })]);

  const summary = await run({ file, concurrency: 4 });
  expect(counts(summary)).toEqual({ rowsRead: 4, started: 2, alreadyRunning: 2, duplicates: 2, suppressed: 0, rejected: 0, notStarted: 0 });
  // The first row with the address is the one that started it.
  expect(await startedWith(a)).toMatchObject({ firstName: 'First' });
  expect(await journeyStatus(b)).toBe('RUNNING');
});

test('running the same import again starts nothing: every lead is already running, in the run the first import started', async () => {
  const emails = [address('again'), address('again'), address('again')];
  const file = listFile([HEADER, ...emails.map((e) => row(e)), row(address('again-bad'), { source: 'partner' })]);
  const first = await run({ file });
  expect(counts(first)).toEqual({ rowsRead: 4, started: 3, alreadyRunning: 0, duplicates: 0, suppressed: 0, rejected: 1, notStarted: 0 });
  const runIds = await Promise.all(emails.map(async (e) => (await env.client.workflow.getHandle(leadJourneyId({ email: e })).describe()).runId));

  const second = await run({ file });
  expect(counts(second)).toEqual({ rowsRead: 4, started: 0, alreadyRunning: 3, duplicates: 0, suppressed: 0, rejected: 1, notStarted: 0 });
  const after = await Promise.all(emails.map(async (e) => (await env.client.workflow.getHandle(leadJourneyId({ email: e })).describe()).runId));
  expect(after).toEqual(runIds);
  // The rejected file says the same of the same row each time.
  expect((await readCsv(second.rejectedFile!)).map((r) => [r.line, r.reason])).toEqual([['5', 'source: Invalid option: expected one of "inbound"|"outbound"']]);
});

test('--dry-run checks every row, suppression and journey, and starts nothing', async () => {
  const [new1, new2, running, suppressed, bad] = [address('dry-new'), address('dry-new'), address('dry-running'), address('dry-suppressed'), address('dry-bad')];
  await addLead(env.client, db.store, taskQueue, config, { email: running, firstName: 'Ren', company: 'Running Co', industry: 'software', region: 'kr', employees: 40, source: 'inbound' });
  await db.store.suppress({ email: suppressed, channel: 'email', reason: 'asked by phone', source: 'cli' });
  const file = listFile([HEADER, row(new1), row(new2), row(running), row(suppressed), row(bad, { employees: '-5' }), row(new1)]);

  const summary = await dryRun({ file });
  expect(summary.dryRun).toBe(true);
  expect(counts(summary)).toEqual({ rowsRead: 6, started: 2, alreadyRunning: 2, duplicates: 1, suppressed: 1, rejected: 1, notStarted: 0 });
  for (const email of [new1, new2, suppressed, bad]) expect(await journeyStatus(email)).toBeUndefined();
  expect(await db.store.contact(new1)).toBeUndefined();
  const [rejected] = await readCsv(summary.rejectedFile!);
  expect(rejected).toMatchObject({ 'E-mail': bad, line: '6' });
  expect(rejected!.reason).toMatch(/^employees: /);

  // The same file for real starts what the dry run said it would.
  expect(counts(await run({ file }))).toEqual(counts(summary));
  for (const email of [new1, new2]) expect(await journeyStatus(email)).toBe('RUNNING');
});

test('a mapping names renamed columns, gives constants, and adds template fields', async () => {
  const [a, b] = [address('mapped'), address('mapped')];
  const file = listFile([
    'Work Email,Given Name,Account,Sector,Territory,Headcount,CRM ID,Source',
    // The list's own Source column says inbound: the mapping's constant wins.
    `${a},Joon,Seoul Robotics,manufacturing,kr,340,0061A00002,inbound`,
    `${b},Aoife,Greenline,software,us-northeast,"2,100",,inbound`,
  ]);
  const mapping = join(dir, `mapping-${++n}.yaml`);
  writeFileSync(
    mapping,
    ['email: Work Email', 'firstName: given name', 'company: Account', 'industry: Sector', 'region: Territory', 'employees: Headcount', 'source: { value: outbound }', 'fields:', '  crmId: CRM ID', '  campaign: { value: spring-webinar }'].join('\n'),
  );

  const summary = await run({ file, mapping });
  expect(counts(summary)).toEqual({ rowsRead: 2, started: 2, alreadyRunning: 0, duplicates: 0, suppressed: 0, rejected: 0, notStarted: 0 });
  expect(await startedWith(a)).toEqual({
    email: a,
    firstName: 'Joon',
    company: 'Seoul Robotics',
    industry: 'manufacturing',
    region: 'kr',
    employees: 340,
    source: 'outbound',
    fields: { crmId: '0061A00002', campaign: 'spring-webinar' },
  });
  // An empty CRM ID cell is a field not known.
  expect(await startedWith(b)).toMatchObject({ employees: 2100, source: 'outbound', fields: { campaign: 'spring-webinar' } });
});

test('a bad mapping is a clear error naming each field and what was expected, before anything starts', async () => {
  const email = address('never');
  const file = listFile(['Work Email,Given Name,Account,Sector,Territory,Headcount', `${email},Joon,Seoul Robotics,manufacturing,kr,340`]);
  const mapping = join(dir, `bad-mapping-${++n}.yaml`);

  writeFileSync(mapping, ['emial: Work Email', 'firstName: Given Name', 'fields:', '  crmId: { column: CRM ID }'].join('\n'));
  const typo = await run({ file, mapping }).catch((err: unknown) => err);
  expect(typo).toBeInstanceOf(ValidationError);
  expect((typo as ValidationError).subject).toBe(mapping);
  expect((typo as ValidationError).problems).toEqual([
    'fields.crmId: expected a column header such as "Work Email", or { value: ... } for the same value on every row (line 4)',
    'emial: unknown key "emial"; expected one of email, firstName, lastName, company, title, industry, region, employees, source, phone, timezone, country, fields (line 1)',
  ]);

  writeFileSync(mapping, ['email: Work Email', 'firstName: Nickname', 'company: Account', 'industry: Sector', 'region: Territory', 'employees: Headcount', 'source: { value: partner }'].join('\n'));
  const wrong = await run({ file, mapping }).catch((err: unknown) => err);
  expect(wrong).toBeInstanceOf(ValidationError);
  expect((wrong as ValidationError).problems).toEqual([
    'source.value: Invalid option: expected one of "inbound"|"outbound" (line 7)',
    expect.stringMatching(/^firstName: no column "Nickname" in list-\d+\.csv \(line 2\); list-\d+\.csv's columns are "Work Email", "Given Name", "Account", "Sector", "Territory", "Headcount"$/),
  ]);
  expect(await journeyStatus(email)).toBeUndefined();
  expect(existsSync(`${file}.rejected.csv`)).toBe(false);
});

test('a missing, empty or headerless file is a clear error, before anything starts', async () => {
  const missing = join(dir, 'no-such-list.csv');
  await expect(run({ file: missing })).rejects.toThrow(`${missing}: cannot read: ENOENT`);

  const empty = listFile(['']);
  await expect(run({ file: empty })).rejects.toMatchObject({ subject: empty, problems: [expect.stringContaining('(header): the file is empty')] });

  // Its first line is a lead, not a header: nothing in it names a lead field.
  const email = address('headerless');
  const headerless = listFile([row(email)]);
  const err = await run({ file: headerless }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ValidationError);
  expect((err as ValidationError).problems).toContain('email: required, and no column is named so');
  expect((err as ValidationError).problems.at(-1)).toContain('rename a column, or name the columns in a mapping file');
  expect(await journeyStatus(email)).toBeUndefined();
});

test('rows Temporal cannot start are retried, then rejected "run the import again"; an import where every row fails stops', async () => {
  // A real client whose connection is closed: every call fails, as with Temporal down.
  const connection = await Connection.connect({ address: env.address });
  const down = new Client({ connection, namespace: env.namespace ?? 'default' });
  await connection.close();

  const emails = [address('down'), address('down')];
  const file = listFile([HEADER, ...emails.map((e) => row(e))]);
  const summary = await importLeads({ client: down, store: db.store, taskQueue, config, file, retryDelaysMs: [10, 10] });
  expect(counts(summary)).toEqual({ rowsRead: 2, started: 0, alreadyRunning: 0, duplicates: 0, suppressed: 0, rejected: 2, notStarted: 2 });
  const rejected = await readCsv(summary.rejectedFile!);
  expect(rejected.map((r) => r['E-mail']).sort()).toEqual([...emails].sort());
  for (const r of rejected) expect(r.reason).toMatch(/^not started: .+; run the import again$/);
  for (const email of emails) expect(await journeyStatus(email)).toBeUndefined();

  // Once the rows fail one after another, the import stops reading instead of rejecting the whole file.
  const many = listFile([HEADER, ...Array.from({ length: 60 }, () => row(address('down-many')))]);
  const stopped = await importLeads({ client: down, store: db.store, taskQueue, config, file: many, retryDelaysMs: [] }).catch((e: unknown) => e);
  expect(stopped).toBeInstanceOf(LeadImportStopped);
  const { summary: partial, message } = stopped as LeadImportStopped;
  expect(message).toMatch(/the import stopped: \d+ rows in a row could not be started .*the rows from line \d+ on were not read\. Run it again once fixed/);
  expect(partial.notStarted).toBeGreaterThanOrEqual(20);
  expect(partial.rowsRead).toBeLessThan(60);
  expect(partial.rejected).toBe(partial.rowsRead);

  // Temporal back: the same file again starts what the first run could not.
  expect(counts(await run({ file }))).toMatchObject({ started: 2, rejected: 0 });
});

describe('the CLI', () => {
  let cliEnv: NodeJS.ProcessEnv;
  beforeAll(() => {
    cliEnv = {
      PIPEWRIGHT_DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: env.namespace ?? 'default',
      PIPEWRIGHT_TASK_QUEUE: taskQueue,
      PIPEWRIGHT_CONFIG: sandboxConfigFile(),
    };
  });

  test('lead import --help describes the columns, the mapping, the rejected file and running it again', async () => {
    const help = await pipewright(['lead', 'import', '--help']);
    expect(help.code).toBe(0);
    for (const text of ['Usage: pipewright lead import [options] <file>', '--mapping <file>', '--dry-run', '--rejected <file>', '--concurrency <n>', '--json', 'required: email, firstName, company, industry, region, employees, source', 'source: { value: outbound }', 'Running an import again is safe', '"line" and "reason"', 'Exit status']) {
      expect(help.stdout).toContain(text);
    }
  });

  test('imports the example list with the example mapping, and a second run starts nothing', async () => {
    const file = join(dir, 'import.csv');
    copyFileSync(join(examples, 'import.csv'), file);
    const mapping = join(examples, 'import-mapping.yaml');

    const first = await pipewright(['lead', 'import', file, '--mapping', mapping], { env: cliEnv });
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toMatch(new RegExp(`^${file}: 5 rows read in [\\d.]+ s \\([\\d.]+ rows/s\\); journeys on config version \\d+\\n`));
    expect(first.stdout).toMatch(/ {2}started +4\n/);
    expect(first.stdout).toContain(`  -> ${file}.rejected.csv (each with its line and reason)`);
    expect(first.stdout).toMatch(/ {2}rejected +1 {2}-> /);
    expect(await startedWith('aoife@greenline-mfg.example')).toMatchObject({
      lastName: "O'Brien",
      company: 'Greenline Manufacturing, Ltd.',
      source: 'outbound',
      phone: '+353215550187',
      country: 'IE',
      fields: { crmId: '0061A00005', boothNotes: 'Said "call me in May"', campaign: 'trade-show-2026' },
    });
    expect(await startedWith('priya@harbor-logistics.example')).toMatchObject({ employees: 1200, title: 'Head of Sales Operations' });
    expect(await journeyStatus('ken@bluepeak-software.example')).toBeUndefined();
    expect(await readCsv(`${file}.rejected.csv`)).toEqual([expect.objectContaining({ 'E-mail': 'ken@bluepeak-software.example', line: '5', reason: 'employees: expected a whole number such as 120, got "50-200"' })]);

    const again = await pipewright(['lead', 'import', file, '--mapping', mapping, '--json'], { env: cliEnv });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ file, dryRun: false, rowsRead: 5, started: 0, alreadyRunning: 4, suppressed: 0, rejected: 1, rejectedFile: `${file}.rejected.csv` });

    const missing = await pipewright(['lead', 'import', join(dir, 'missing.csv')], { env: cliEnv });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`pipewright: ${join(dir, 'missing.csv')}: cannot read: ENOENT`);
  });
});
