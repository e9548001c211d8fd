// `npm run chaos`: does every lead get each of its e-mails exactly once while workers are SIGKILLed
// and the Temporal server restarts under them? Everything runs as it would in production: the dev
// server, the store and the workers are separate processes, mail goes to a real SMTP server. It
// prints figures (lost, duplicated, unexpected messages, and what the send ledger says); it is a
// measurement, not a test, so it exits 0 whenever it ran to the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, createWriteStream, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client, Connection, isGrpcServiceError } from '@temporalio/client';
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseDocument } from 'yaml';
import { LINK_SECRETS_ENV, newLinkSecret } from '../activities/signedLinks';
import { messageId } from '../activities/mail';
import { addLead } from '../client/leads';
import { startMailSink, type MailSink } from '../client/mailSink';
import { packageRoot } from '../client/paths';
import { ensureServer } from '../client/servers';
import { DURATION_HINT, durationMs, isDuration } from '../config/duration';
import type { Lead } from '../config/lead';
import { leadJourneyId } from '../config/vocabulary';
import { loadConfig } from '../config/load';
import type { Config } from '../config/schema';
import { openStore, type SendRecord, type Store } from '../store';
import { journeyStateQuery } from '../workflows/messages';
import { JOURNEY_SEARCH_ATTRIBUTES } from '../workflows/searchAttributes';
import { acceptsConnections, freePort } from '../client/freePort';
import { stopProcess } from '../client/stopProcess';

interface Options {
  leads: number;
  concurrency: number;
  killEvery: number;
  killJitter: number;
  restartServerAt: RestartAt;
  timeout: number;
  grace: number;
  keep: boolean;
}

/** When the one server restart happens: after a share of the adds, or seconds after the faults began. */
type RestartAt = { fraction: number } | { seconds: number };

const TASK_QUEUE = 'chaos';
/** How long a child may take to say it is ready; initdb of a new store takes seconds on 2 cores. */
const STARTUP_TIMEOUT_MS = 120_000;
/** A worker that died on its own (say, started while the server was down) is replaced after this. */
const RESPAWN_DELAY_MS = 1_000;
/** How many duplicated and lost messages are explained one by one. */
const EXPLAINED = 10;

function parseOptions(): Options {
  return new Command('npm run chaos --')
    .description('add leads while SIGKILLing workers and restarting the Temporal dev server; count lost and duplicated e-mails')
    .option('--leads <n>', 'leads to add, half fitting the ICP (2 e-mails each), half nurtured (3 each)', whole, 1000)
    .option('--concurrency <n>', 'adds in flight at once', whole, 16)
    .option('--kill-every <seconds>', 'SIGKILL the worker this often and start a new one at once', positive, 10)
    .option('--kill-jitter <fraction>', 'vary each interval at random by up to this share of --kill-every (0 to 1)', share, 0)
    .addOption(
      new Option('--restart-server-at <when>', 'restart the dev server once: at a share of the adds ("40%") or seconds after the faults begin ("60s")')
        .argParser(restartAt)
        .default(restartAt('40%'), '40%'),
    )
    .addOption(new Option('--timeout <duration>', 'stop the faults after this long even if messages are missing ("15m", "900s")').argParser(duration).default(durationMs('15m'), '15m'))
    .addOption(new Option('--grace <duration>', 'then wait this long, one worker alive and no faults, for stragglers').argParser(duration).default(durationMs('60s'), '60s'))
    .option('--keep', 'keep the temporary folder (logs of every process, the store, the server\'s SQLite file)', false)
    .parse()
    .opts<Options>();
}

function whole(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a whole number above 0, got "${value}"`);
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError(`expected a number above 0, got "${value}"`);
  return n;
}

function share(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError(`expected a number from 0 to 1, got "${value}"`);
  return n;
}

function duration(value: string): number {
  if (!isDuration(value)) throw new InvalidArgumentError(DURATION_HINT);
  return durationMs(value);
}

function restartAt(value: string): RestartAt {
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(value);
  if (percent && Number(percent[1]) <= 100) return { fraction: Number(percent[1]) / 100 };
  const after = /^(\d+)s$/.exec(value);
  if (after) return { seconds: Number(after[1]) };
  throw new InvalidArgumentError(`expected a share of the adds such as "40%" or seconds such as "60s", got "${value}"`);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => (ms / 1000).toFixed(1);

// ---------------------------------------------------------------------------------------------
// Child processes: every one is tracked, so Ctrl-C or a failure never leaves one behind.

const children = new Set<ChildProcess>();

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Starts a process whose output goes to a log file in the run's folder, for a post-mortem. */
function spawnLogged(command: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile, { flags: 'a' });
  log.write(`--- pid ${child.pid} started ${new Date().toISOString()}\n`);
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  children.add(child);
  child.once('close', (code, signal) => {
    log.end(`--- pid ${child.pid} exited ${new Date().toISOString()} (${signal ?? code})\n`);
  });
  child.once('exit', () => children.delete(child));
  // A failed spawn also emits 'exit' or 'close'; without a listener the error would end this process.
  child.on('error', () => undefined);
  return child;
}

/** A process that ignores SIGTERM must not hold the run open. */
const GRACE_MS = 15_000;

/** Calls `onMatch` for each stdout line matching `pattern`. */
function onLine(child: ChildProcess, pattern: RegExp, onMatch: (match: RegExpMatchArray) => void): void {
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const match = pattern.exec(line);
    if (match) onMatch(match);
  });
}

function waitForLine(child: ChildProcess, pattern: RegExp, what: string, timeoutMs = STARTUP_TIMEOUT_MS): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${seconds(timeoutMs)} s`)), timeoutMs);
    const failed = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${signal ?? code}) before it was ready`));
    };
    child.once('exit', failed);
    onLine(child, pattern, (match) => {
      clearTimeout(timer);
      child.off('exit', failed);
      resolve(match);
    });
  });
}


async function waitForPort(port: number, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (!(await acceptsConnections(port))) {
    if (!isRunning(child)) throw new Error(`${what} exited (${child.signalCode ?? child.exitCode}) before listening on ${port}`);
    if (Date.now() > deadline) throw new Error(`${what} was not listening on ${port} after ${seconds(STARTUP_TIMEOUT_MS)} s`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// The three kinds of process under test.

/**
 * A copy of the build for the child processes. The run lasts minutes and each new worker loads
 * dist/ afresh: a `tsc` in the checkout meanwhile (another change, the tests) would otherwise put
 * new workflow code beside old histories, and its nondeterminism errors would be counted as losses.
 */
function snapshotBuild(dir: string): string {
  const root = packageRoot();
  const app = join(dir, 'app');
  for (const path of ['package.json', 'dist', join('store', 'migrations'), join('store', 'pgliteWorker.js'), join('config', 'examples')]) {
    cpSync(join(root, path), join(app, path), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(app, 'node_modules'), 'dir');
  return join(app, 'dist', 'client', 'cli.js');
}

async function startStore(cli: string, dir: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawnLogged(process.execPath, [cli, 'store', 'serve', '--port', '0', '--data', join(dir, 'store')], process.env, join(dir, 'store.log'));
  const [, url] = await waitForLine(child, /^store: serving (\S+)/, 'the store');
  return { url: url!, child };
}

/** The dev server, run by hand rather than through the SDK, so it can come back on the same port and SQLite file. */
class DevServer {
  restarts = 0;
  downMs = 0;
  private child: ChildProcess | undefined;

  constructor(
    private readonly executable: string,
    readonly port: number,
    private readonly dir: string,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = [
      'server', 'start-dev', '--ip', '127.0.0.1', '--port', String(this.port), '--headless', '--namespace', 'default',
      '--db-filename', join(this.dir, 'temporal.sqlite'), '--log-level', 'error', '--sqlite-pragma', 'journal_mode=WAL',
      ...JOURNEY_SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]),
    ];
    this.child = spawnLogged(this.executable, args, process.env, join(this.dir, 'temporal.log'));
    await waitForPort(this.port, this.child, 'the Temporal dev server');
  }

  async restart(): Promise<void> {
    const down = Date.now();
    if (this.child) await stopProcess(this.child, 30_000);
    await this.start();
    this.downMs = Date.now() - down;
    this.restarts++;
  }

  async stop(): Promise<void> {
    if (this.child) await stopProcess(this.child, GRACE_MS);
  }
}

interface WorkerProcess {
  child: ChildProcess;
  spawnedAt: number;
  pollingAt?: number;
  killedByUs: boolean;
}

/** One worker at a time, killed and replaced on demand, and replaced when it dies on its own. */
class Workers {
  kills = 0;
  killedBeforePolling = 0;
  diedOnTheirOwn = 0;
  readonly startupMs: number[] = [];
  readonly killTimes: number[] = [];
  private current: WorkerProcess | undefined;
  private stopping = false;

  constructor(
    private readonly cli: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string,
    private readonly say: (line: string) => void,
  ) {}

  start(): void {
    const child = spawnLogged(process.execPath, [this.cli, 'worker'], this.env, this.logFile);
    const worker: WorkerProcess = { child, spawnedAt: Date.now(), killedByUs: false };
    this.current = worker;
    onLine(child, /^worker: polling task queue/, () => {
      worker.pollingAt = Date.now();
      this.startupMs.push(worker.pollingAt - worker.spawnedAt);
    });
    child.once('exit', (code, signal) => this.diedOnItsOwn(worker, code, signal));
  }

  killAndReplace(): void {
    const worker = this.current;
    if (worker && isRunning(worker.child)) {
      worker.killedByUs = true;
      worker.child.kill('SIGKILL');
      this.kills++;
      this.killTimes.push(Date.now());
      if (worker.pollingAt === undefined) this.killedBeforePolling++;
    }
    this.start();
  }

  async waitUntilPolling(timeoutMs = STARTUP_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.current?.pollingAt === undefined || !isRunning(this.current.child)) {
      if (Date.now() > deadline) throw new Error(`no worker was polling after ${seconds(timeoutMs)} s; see ${this.logFile}`);
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.current) await stopProcess(this.current.child, GRACE_MS);
  }

  private diedOnItsOwn(worker: WorkerProcess, code: number | null, signal: string | null): void {
    if (worker.killedByUs || this.stopping) return;
    this.diedOnTheirOwn++;
    this.say(`worker ${worker.child.pid} exited on its own (${signal ?? code}); another starts in ${RESPAWN_DELAY_MS / 1000} s`);
    // Only the current worker is replaced: an older one's replacement is already running.
    setTimeout(() => {
      if (!this.stopping && this.current === worker) this.start();
    }, RESPAWN_DELAY_MS);
  }
}

// ---------------------------------------------------------------------------------------------
// What the run sends, and what it expects to arrive.

/** The example config with a cadence short enough for the whole run to end in minutes. */
function writeShortConfig(dir: string): string {
  const doc = parseDocument(readFileSync(join(packageRoot(), 'config', 'examples', 'default.yaml'), 'utf8'));
  doc.setIn(['sla', 'policies', (doc.toJS() as Config).sla.policies.findIndex((p) => p.name === 'inbound-first-touch'), 'within'], '30s');
  [1, 3].forEach((step) => doc.setIn(['cadences', 'nurture', 'steps', step, 'wait'], '20s'));
  // Every hour of the day, and no per-contact limit: the run counts messages, not the calendar.
  doc.setIn(['sending', 'sandbox'], true);
  doc.setIn(['sending', 'limits'], {});
  doc.setIn(['journey', 'replyWindow'], '1m');
  doc.setIn(['journey', 'endAfterInactivity'], '2m');
  const file = join(dir, 'chaos.yaml');
  writeFileSync(file, String(doc));
  return file;
}

interface ExpectedMessage {
  id: string;
  /** "assigned", "first-touch-breach", "nurture.habits.1": which step of the journey sends it. */
  step: string;
}

interface PlannedLead {
  lead: Lead;
  fits: boolean;
  /** The messages its journey sends: nobody touches or answers it, so each exactly once. */
  expected: ExpectedMessage[];
}

/** Even leads fit the example ICP and go to an SDR who never touches them; odd ones are nurtured. */
function planLeads(n: number, config: Config): PlannedLead[] {
  return Array.from({ length: n }, (_, i) => {
    const fits = i % 2 === 0;
    const lead: Lead = {
      email: `${fits ? 'fit' : 'nurture'}-${i}@chaos-${i}.example`,
      firstName: 'Chaos',
      lastName: `Lead ${i}`,
      company: `Chaos ${i} Inc`,
      industry: fits ? 'manufacturing' : 'retail',
      region: 'us-northeast',
      employees: 120,
      source: 'inbound',
    };
    return { lead, fits, expected: expectedMessages(lead, fits, config) };
  });
}

function expectedMessages(lead: Lead, fits: boolean, config: Config): ExpectedMessage[] {
  const leadId = leadJourneyId(lead);
  const nurture = config.cadences[config.journey.nurtureCadence]!.steps.filter((step) => step.email);
  const steps = fits ? ['assigned', 'first-touch-breach'] : nurture.map((step) => `${config.journey.nurtureCadence}.${step.id}.1`);
  return steps.map((step) => ({ id: messageId(leadId, step, config.sender.email), step }));
}

/** Every message the sink received, by Message-ID, against the set the journeys should send. */
class Inbox {
  received = 0;
  arrived = 0;
  readonly copies = new Map<string, number[]>();

  constructor(readonly expected: Set<string>) {}

  note(id: string | undefined): void {
    const key = id ?? '(no Message-ID)';
    const times = this.copies.get(key) ?? [];
    if (times.length === 0 && this.expected.has(key)) this.arrived++;
    times.push(Date.now());
    this.copies.set(key, times);
    this.received++;
  }

  get complete(): boolean {
    return this.arrived === this.expected.size;
  }

  lost(): string[] {
    return [...this.expected].filter((id) => !this.copies.has(id));
  }

  duplicated(): [string, number[]][] {
    return [...this.copies].filter(([, times]) => times.length > 1);
  }

  unexpected(): string[] {
    return [...this.copies.keys()].filter((id) => !this.expected.has(id));
  }
}

// ---------------------------------------------------------------------------------------------
// Adding the leads while Temporal comes and goes.

/** gRPC's CANCELLED, UNKNOWN, DEADLINE_EXCEEDED and UNAVAILABLE: what a server going away looks like. */
const TRANSIENT = new Set([1, 2, 4, 14]);

/** A gRPC failure (anywhere in the cause chain) that a server coming back would cure. */
function isTemporalDown(err: unknown): boolean {
  for (let e = err as { cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (isGrpcServiceError(e) && TRANSIENT.has(e.code)) return true;
  }
  return false;
}

interface Adding {
  added: number;
  retries: number;
  lastRetryError?: string;
  /** Set when the run fails otherwise, so no add keeps retrying behind it. */
  abandoned?: boolean;
}

/** Safe to repeat: a lead's second add finds its journey and starts nothing. */
async function addUntilDone(client: Client, store: Store, config: Config, lead: Lead, deadline: number, adding: Adding): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await addLead(client, store, TASK_QUEUE, config, lead);
      return;
    } catch (err) {
      if (!isTemporalDown(err) || Date.now() > deadline || adding.abandoned) throw err;
      adding.retries++;
      adding.lastRetryError = String((err as Error).message).split('\n')[0];
      await sleep(Math.min(5_000, 200 * 2 ** attempt));
    }
  }
}

async function addAll(
  plan: PlannedLead[],
  concurrency: number,
  add: (lead: Lead) => Promise<void>,
  adding: Adding,
  onAdded: () => void,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, plan.length) }, async () => {
      while (next < plan.length && !adding.abandoned) {
        await add(plan[next++]!.lead);
        adding.added++;
        onAdded();
      }
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Progress while it runs.

interface Bars {
  multi: MultiBar;
  leads: SingleBar;
  messages: SingleBar;
  say(line: string): void;
}

function startBars(leads: number, expected: number): Bars {
  const multi = new MultiBar(
    { format: '{label} [{bar}] {value}/{total} {info}', noTTYOutput: true, notTTYSchedule: 10_000, hideCursor: true },
    Presets.shades_classic,
  );
  return {
    multi,
    leads: multi.create(leads, 0, { label: 'leads added'.padEnd(16), info: '' }),
    messages: multi.create(expected, 0, { label: 'messages arrived'.padEnd(16), info: '' }),
    say: (line) => multi.log(`${line}\n`),
  };
}

/** Everything the run drives and measures, once every process is up. */
interface Rig {
  options: Options;
  plan: PlannedLead[];
  inbox: Inbox;
  adding: Adding;
  workers: Workers;
  server: DevServer;
  bars: Bars;
  client: Client;
  store: Store;
  config: Config;
  startedAt: number;
}

function showProgress({ bars, adding, inbox, workers, server, startedAt }: Rig, phase: string): void {
  bars.leads.update(adding.added, { info: adding.retries ? `(${adding.retries} retried while Temporal was down)` : '' });
  bars.messages.update(inbox.arrived, {
    info:
      `| ${phase} ${seconds(Date.now() - startedAt)} s | received ${inbox.received}, duplicated ${inbox.duplicated().length}` +
      ` | kills ${workers.kills}, server restarts ${server.restarts}`,
  });
}

// ---------------------------------------------------------------------------------------------
// The faults.

/** Restarts the server once, when its moment comes; a failure is kept for the run to report. */
class ServerRestart {
  failure: unknown;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly afterAdds: number;

  constructor(private readonly rig: Rig) {
    const at = rig.options.restartServerAt;
    this.afterAdds = 'fraction' in at ? Math.max(1, Math.ceil(at.fraction * rig.plan.length)) : Infinity;
    if ('seconds' in at) this.timer = setTimeout(() => this.now(), at.seconds * 1000);
  }

  onAdded(): void {
    if (this.rig.adding.added >= this.afterAdds) this.now();
  }

  now(): void {
    const { server, bars, adding, inbox } = this.rig;
    this.running ??= (async () => {
      bars.say(`restarting the Temporal dev server (${adding.added} leads added, ${inbox.arrived} messages arrived)`);
      await server.restart();
      bars.say(`the Temporal dev server is back on ${server.address} after ${seconds(server.downMs)} s`);
    })().catch((err) => void (this.failure = err));
  }

  /** Waits for a restart under way; one not yet due is dropped. */
  async settle(): Promise<void> {
    clearTimeout(this.timer);
    await this.running;
    if (this.failure) throw this.failure;
  }
}

/**
 * Kills and replaces the worker every `every` seconds. Without jitter the kills keep a fixed phase,
 * and so do activity retries (heartbeat timeout and backoff are whole multiples of 10 s): an
 * attempt that met one kill can meet the next one at each retry.
 */
function killPeriodically(workers: Workers, every: number, jitter: number): { stop(): void } {
  let timer: NodeJS.Timeout;
  const next = () => {
    const interval = every * (1 + jitter * (2 * Math.random() - 1));
    timer = setTimeout(() => {
      workers.killAndReplace();
      next();
    }, interval * 1000);
  };
  next();
  return { stop: () => clearTimeout(timer) };
}

/**
 * Adds the leads and kills a worker every --kill-every seconds until every expected message arrived
 * or the timeout; returns how long that took, or undefined on the timeout.
 */
async function runUnderFaults(rig: Rig): Promise<number | undefined> {
  const { options, plan, inbox, adding, workers } = rig;
  const deadline = rig.startedAt + options.timeout;
  const restart = new ServerRestart(rig);
  const killer = killPeriodically(workers, options.killEvery, options.killJitter);
  let addsFailed: unknown;
  try {
    const add = (lead: Lead) => addUntilDone(rig.client, rig.store, rig.config, lead, deadline, adding);
    const adds = addAll(plan, options.concurrency, add, adding, () => restart.onAdded()).catch((err) => void (addsFailed = err));
    while (!(inbox.complete && adding.added === plan.length) && Date.now() < deadline) {
      if (addsFailed || restart.failure) break;
      await sleep(200);
    }
    adding.abandoned = !!restart.failure;
    await adds;
    if (addsFailed) throw addsFailed;
    return inbox.complete ? Date.now() - rig.startedAt : undefined;
  } finally {
    killer.stop();
    await restart.settle();
  }
}

/** No faults any more, one worker alive: messages still in retry have their chance to arrive. */
async function grace(rig: Rig): Promise<void> {
  await rig.workers.waitUntilPolling();
  await sleep(rig.options.grace);
}

// ---------------------------------------------------------------------------------------------
// What it found.

interface LedgerFigures {
  rows: number;
  notSent: Map<string, number>;
  retried: Map<string, number>;
  maxAttempts: number;
  byMessageId: Map<string, SendRecord>;
}

async function readLedger(store: Store): Promise<LedgerFigures> {
  const rows = await store.sends({});
  const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  const notSent = new Map<string, number>();
  const retried = new Map<string, number>();
  const byMessageId = new Map<string, SendRecord>();
  for (const row of rows) {
    if (row.status !== 'sent') count(notSent, row.status);
    if (row.attempts > 1) count(retried, row.kind);
    if (row.messageId) byMessageId.set(row.messageId, row);
  }
  const maxAttempts = Math.max(0, ...rows.map((row) => row.attempts));
  return { rows: rows.length, notSent, retried, maxAttempts, byMessageId };
}

function describeRow(row: SendRecord | undefined): string {
  if (!row) return 'no ledger row';
  const detail = row.detail ? `, detail "${row.detail.slice(0, 80)}"` : '';
  return `ledger: ${row.status}, attempts ${row.attempts}${detail}, claimed ${row.createdAt.toISOString()}${row.sentAt ? `, sent ${row.sentAt.toISOString()}` : ''}`;
}

/**
 * The window of doubt is a crash between the SMTP server taking the message and the ledger saying
 * "sent": look for the kill nearest the first copy. The sink notes a copy once it has parsed it, so
 * that kill may come a few milliseconds before.
 */
function nearestKill(firstCopyAt: number, killTimes: number[]): string {
  const kill = killTimes.reduce<number | undefined>((best, t) => (best === undefined || Math.abs(t - firstCopyAt) < Math.abs(best - firstCopyAt) ? t : best), undefined);
  if (kill === undefined) return 'no worker was killed';
  const ms = kill - firstCopyAt;
  return `the nearest worker kill was ${Math.abs(ms)} ms ${ms < 0 ? 'before' : 'after'} the first copy was received`;
}

/** Where a journey whose message never came stands: its status, its own answer, and what it told the store. */
async function describeJourney(client: Client, store: Store, leadId: string): Promise<string> {
  const firstLine = (err: unknown): string => {
    const { message, cause } = (err ?? {}) as { message?: string; cause?: unknown };
    return `${String(message ?? err).split('\n')[0]}${cause ? ` (${firstLine(cause)})` : ''}`;
  };
  const status = await client.workflow
    .getHandle(leadId)
    .describe()
    .then((d) => d.status.name, (err) => `describe failed: ${firstLine(err)}`);
  const state = await client.workflow
    .getHandle(leadId)
    .query(journeyStateQuery)
    .then((s) => `stage ${s.stage}${s.outcome ? ` (${s.outcome})` : ''}${s.next ? `, next: ${s.next.what} at ${s.next.dueAt}` : ''}`, (err) => `query failed: ${firstLine(err)}`);
  const events = (await store.events({ journeyId: leadId })).map((e) => e.type).join(' > ') || 'none';
  return `journey ${status}, ${state}; events: ${events}`;
}

/** "first-touch-breach 30, nurture.call-offer.1 8": which steps the missing messages belong to. */
function byStep(ids: string[], stepOf: Map<string, string>): string {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(stepOf.get(id)!, (counts.get(stepOf.get(id)!) ?? 0) + 1);
  return [...counts].map(([step, n]) => `${step} ${n}`).join(', ');
}

function percentile(values: number[], p: number): number | undefined {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const row = (label: string, value: string | number) => console.log(`  ${label.padEnd(26)} ${value}`);

function printFigures({ options, plan, adding, inbox, workers, server }: Rig, allArrivedAfterMs: number | undefined, elapsedMs: number): void {
  const duplicated = inbox.duplicated();
  const extra = duplicated.reduce((n, [, times]) => n + times.length - 1, 0);
  const fitting = plan.filter((p) => p.fits).length;
  const at = options.restartServerAt;
  const p50 = percentile(workers.startupMs, 50);
  const jitter = options.killJitter ? ` ± ${options.killJitter * 100}%` : '';
  console.log(`\nResults (worker SIGKILLed every ${options.killEvery} s${jitter}; dev server restarted at ${'fraction' in at ? `${at.fraction * 100}% of the adds` : `${at.seconds} s`})`);
  row('leads', `${adding.added} added of ${plan.length} (${fitting} to an SDR, ${plan.length - fitting} nurtured; ${adding.retries} add retries${adding.lastRetryError ? `, last: ${adding.lastRetryError}` : ''})`);
  row('expected messages', inbox.expected.size);
  row('received', inbox.received);
  row('lost', inbox.lost().length);
  row('duplicated', `${duplicated.length} Message-IDs, ${extra} extra copies`);
  row('unexpected', inbox.unexpected().length);
  row('worker kills', workers.kills);
  row('  killed before polling', workers.killedBeforePolling);
  row('  died on their own', workers.diedOnTheirOwn);
  row('  start to polling', `p50 ${p50 === undefined ? '-' : seconds(p50)} s, max ${seconds(Math.max(0, ...workers.startupMs))} s`);
  row('sink: sessions reset', `${sinkResets} (SMTP connections dropped mid-transaction, reported as uncaught errors)`);
  row('server restarts', `${server.restarts}${server.restarts ? ` (down ${seconds(server.downMs)} s)` : ''}`);
  row('all expected arrived', allArrivedAfterMs === undefined ? `not within ${seconds(options.timeout)} s` : `after ${seconds(allArrivedAfterMs)} s of faults`);
  row('elapsed', `${seconds(elapsedMs)} s`);
}

function printLedger(ledger: LedgerFigures): void {
  const list = (map: Map<string, number>) => [...map].map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  const retried = [...ledger.retried.values()].reduce((a, b) => a + b, 0);
  console.log(`\nSend ledger (sends table, ${ledger.rows} rows)`);
  row('status other than sent', list(ledger.notSent));
  row('attempts > 1', `${retried}${retried ? ` (${list(ledger.retried)}; most attempts: ${ledger.maxAttempts})` : ''}`);
}

async function printExplanations({ plan, inbox, workers, client, store, startedAt }: Rig, ledger: LedgerFigures): Promise<void> {
  const leadOf = new Map(plan.flatMap((p) => p.expected.map((m) => [m.id, leadJourneyId(p.lead)] as const)));
  const stepOf = new Map(plan.flatMap((p) => p.expected.map((m) => [m.id, m.step] as const)));
  const duplicated = inbox.duplicated();
  if (duplicated.length) console.log(`\nDuplicated (${Math.min(EXPLAINED, duplicated.length)} of ${duplicated.length}; times since the faults began)`);
  for (const [id, times] of duplicated.slice(0, EXPLAINED)) {
    console.log(`  ${id}: ${times.length} copies at ${times.map((t) => `+${seconds(t - startedAt)} s`).join(', ')}`);
    console.log(`    ${describeRow(ledger.byMessageId.get(id))}; ${nearestKill(times[0]!, workers.killTimes)}`);
  }
  const lost = inbox.lost();
  if (lost.length) console.log(`\nLost (${Math.min(EXPLAINED, lost.length)} of ${lost.length}; by step: ${byStep(lost, stepOf)})`);
  for (const id of lost.slice(0, EXPLAINED)) {
    console.log(`  ${id}: ${describeRow(ledger.byMessageId.get(id))}`);
    console.log(`    ${await describeJourney(client, store, leadOf.get(id)!)}`);
  }
  const unexpected = inbox.unexpected();
  if (unexpected.length) console.log(`\nUnexpected (${Math.min(EXPLAINED, unexpected.length)} of ${unexpected.length}): ${unexpected.slice(0, EXPLAINED).join(', ')}`);
}

// ---------------------------------------------------------------------------------------------
// Setting up and tearing down.

/** What must be stopped at the end, filled in as it starts. */
interface Run {
  dir: string;
  keep: boolean;
  bars?: Bars;
  sink?: MailSink;
  store?: Store;
  connection?: Connection;
  workers?: Workers;
  server?: DevServer;
  storeProcess?: ChildProcess;
}

let cleaning: Promise<void> | undefined;

/** Stops everything, clients before the servers they talk to; safe to call twice (Ctrl-C during the normal end). */
function cleanUp(run: Run): Promise<void> {
  cleaning ??= (async () => {
    run.bars?.multi.stop();
    await run.workers?.stop();
    await run.connection?.close().catch(() => undefined);
    await run.store?.close().catch(() => undefined);
    await run.sink?.close();
    await run.server?.stop();
    if (run.storeProcess) await stopProcess(run.storeProcess, GRACE_MS);
    for (const child of children) child.kill('SIGKILL');
    if (run.keep) console.error(`kept ${run.dir}`);
    else rmSync(run.dir, { recursive: true, force: true });
  })();
  return cleaning;
}

/** Starts the sink, the store, the dev server and the first worker, and connects to them. */
async function setUp(options: Options, run: Run): Promise<Rig> {
  const config = loadConfig(writeShortConfig(run.dir));
  const plan = planLeads(options.leads, config);
  const inbox = new Inbox(new Set(plan.flatMap((p) => p.expected.map((m) => m.id))));
  const sink = (run.sink = await startMailSink({ onMessage: (mail) => inbox.note(mail.messageId) }));
  const cli = snapshotBuild(run.dir);
  const storeProcess = await startStore(cli, run.dir);
  run.storeProcess = storeProcess.child;
  const server = (run.server = new DevServer(await ensureServer('dev-server', console.error), await freePort(), run.dir));
  await server.start();

  const bars = (run.bars = startBars(plan.length, inbox.expected.size));
  const workerEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: 'default',
    PIPEWRIGHT_TASK_QUEUE: TASK_QUEUE,
    PIPEWRIGHT_SMTP_URL: sink.url,
    PIPEWRIGHT_DATABASE_URL: storeProcess.url,
    // Every worker signs links with the same key, as a deployment's would.
    [LINK_SECRETS_ENV]: process.env[LINK_SECRETS_ENV] ?? newLinkSecret('chaos'),
  };
  const workers = (run.workers = new Workers(cli, workerEnv, join(run.dir, 'workers.log'), bars.say));
  workers.start();
  await workers.waitUntilPolling();

  const connection = (run.connection = await Connection.connect({ address: server.address }));
  const store = (run.store = await openStore(storeProcess.url));
  const client = new Client({ connection, namespace: 'default' });
  const adding: Adding = { added: 0, retries: 0 };
  return { options, plan, inbox, adding, workers, server, bars, client, store, config, startedAt: Date.now() };
}

async function main(options: Options, run: Run): Promise<void> {
  const scriptStart = Date.now();
  const rig = await setUp(options, run);
  let phase = 'faults';
  const ticker = setInterval(() => showProgress(rig, phase), 1000);
  let allArrivedAfterMs: number | undefined;
  try {
    allArrivedAfterMs = await runUnderFaults(rig);
    phase = 'grace';
    rig.bars.say(
      allArrivedAfterMs === undefined
        ? `timed out with ${rig.inbox.arrived}/${rig.inbox.expected.size} arrived; no more kills, ${seconds(options.grace)} s of grace`
        : `all ${rig.inbox.expected.size} expected messages arrived; no more kills, ${seconds(options.grace)} s of grace`,
    );
    await grace(rig);
  } finally {
    clearInterval(ticker);
    showProgress(rig, phase);
    rig.bars.multi.stop();
    // Stopped once: a second stop would draw the bars again below the figures.
    run.bars = undefined;
  }
  printFigures(rig, allArrivedAfterMs, Date.now() - scriptStart);
  const ledger = await readLedger(rig.store);
  printLedger(ledger);
  await printExplanations(rig, ledger);
}

/** Socket errors smtp-server stamps with the client's address before re-emitting them on the server. */
const SMTP_SOCKET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);
let sinkResets = 0;

/**
 * client/mailSink.ts gives its SMTPServer no 'error' listener, so a client that drops its connection
 * in the middle of a transaction (a SIGKILLed worker does) raises an uncaught exception in the
 * process that runs the sink. The sink is unharmed (the connection is gone either way), so such an
 * error is counted and reported; anything else still ends the run.
 */
function surviveSinkResets(run: Run): void {
  process.on('uncaughtException', (err: Error & { code?: string; remoteAddress?: unknown }) => {
    if (SMTP_SOCKET_ERRORS.has(err.code ?? '') && typeof err.remoteAddress === 'string') {
      sinkResets++;
      return;
    }
    console.error(`chaos: could not run: ${err.stack ?? err}`);
    void cleanUp(run).finally(() => process.exit(1));
  });
}

const options = parseOptions();
const run: Run = { dir: mkdtempSync(join(tmpdir(), 'pipewright-chaos-')), keep: options.keep };
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping every process${options.keep ? '' : ` and removing ${run.dir}`}`);
    void cleanUp(run).finally(() => process.exit(130));
  });
}
surviveSinkResets(run);
// The last resort if this process dies some other way: no dev server or worker outlives it.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

main(options, run)
  .then(() => cleanUp(run))
  .catch(async (err) => {
    console.error(`chaos: could not run: ${(err as Error)?.stack ?? err}`);
    await cleanUp(run).catch(() => undefined);
    process.exitCode = 1;
  });
