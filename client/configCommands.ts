// `pipewright config ...` and `pipewright cadence ...`: validate a file, make it the active config
// version, say which version is active and since when, compare versions, and move the running
// journeys of a cadence to a new definition of it.
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { Presets, SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { CadenceExit, CadenceStep } from '../config/cadence';
import { describeStep, diffConfigs, formatChanges, type ConfigChange } from '../config/diff';
import { loadConfig, parseConfig } from '../config/load';
import type { Config } from '../config/schema';
import type { Store } from '../store';
import type { ConfigActivation } from '../store/types';
import type { CadenceRun } from '../workflows/cadence/run';
import { journeyStateQuery, migrateCadenceUpdate, type CadenceMigration, type MigrationAnswer } from '../workflows/messages';
import { parseAccount } from './accounts';
import { positive, readJson, withClient, withStore } from './commandContext';
import { actor, applyConfigFile, readConfigFile, sourceSha256, storedConfig, type ActiveConfigResult, type AppliedConfig } from './configVersions';
import { parseLead } from './leads';

export function registerConfigCommands(program: Command): void {
  const config = program
    .command('config')
    .description('validate config files, make one the active config version, and see which is active and what changed');

  config
    .command('validate <file>')
    .description('exit 0 if the file is valid; otherwise print every problem as "path: message" and exit 1')
    .action((file: string) => {
      const loaded = loadConfig(file);
      const roles = loaded.team.reduce<Record<string, number>>((n, m) => ({ ...n, [m.role]: (n[m.role] ?? 0) + 1 }), {});
      console.log(
        `${file}: valid (${Object.entries(roles).map(([role, n]) => `${n} ${role}`).join(', ')}; ${Object.entries(loaded.cadences).map(([name, c]) => `${name} ${c.steps.length} steps`).join(', ')})`,
      );
    });

  config
    .command('apply <file>')
    .description(
      'validate the file and make it the active config version in the store (PIPEWRIGHT_DATABASE_URL): new leads and accounts start on it, ' +
        'journeys already running keep theirs. Applying an earlier file again makes its version active again (a rollback).',
    )
    .action((file: string) =>
      withStore(async (store) => {
        const applied = await applyConfigFile(store, file, actor('config apply'));
        for (const line of await describeApplied(store, applied)) console.log(line);
      }),
    );

  config
    .command('show')
    .description('which config version is active, since when and applied by whom, with its cadences and templates')
    .addOption(new Option('--version <n>', 'show this stored version instead of the active one').argParser(positive))
    .option('--json', 'print the stored config itself as JSON')
    .action((opts: { version?: number; json?: boolean }) =>
      withStore(async (store) => {
        const history = await store.configHistory();
        const stored = opts.version !== undefined ? await store.configVersion(opts.version) : await store.activeConfig();
        if (!stored) {
          throw new Error(opts.version !== undefined ? `no config version ${opts.version} in the store (\`pipewright config history\` lists them)` : NO_ACTIVE_VERSION);
        }
        if (opts.json) {
          console.log(JSON.stringify(inFileOrder(stored.source, stored.config), null, 2));
          return;
        }
        for (const line of describeVersion(stored.version, inFileOrder(stored.source, stored.config), sourceSha256(stored.source), history)) console.log(line);
      }),
    );

  config
    .command('history')
    .description('every activation, newest first: version, when, by whom, the sha256 of its text (first 12 characters); the first is active')
    .action(() =>
      withStore(async (store) => {
        const history = await store.configHistory();
        if (!history.length) {
          console.log('no config version applied yet');
          return;
        }
        const rows = history.map((a, i) => [`v${a.version}`, a.activatedAt.toISOString(), a.activatedBy ?? '-', a.sha256.slice(0, 12), i === 0 ? '(active)' : '']);
        for (const line of columns(rows)) console.log(line);
      }),
    );

  config
    .command('diff <old> <new>')
    .description('which cadences, steps, templates and sections changed; each side is a file or vN, a stored version (a file named like that: ./vN); exits 0 either way')
    .action(async (oldSpec: string, newSpec: string) => {
      const compare = async (store?: Store) => {
        const [before, after] = [await configOf(oldSpec, store), await configOf(newSpec, store)];
        const lines = formatChanges(diffConfigs(before, after));
        console.log(lines.length ? lines.join('\n') : 'no changes');
      };
      // Two files need no store: a diff in code review works without one.
      if (isVersion(oldSpec) || isVersion(newSpec)) await withStore(compare);
      else await compare();
    });
}

export function registerCadenceCommands(program: Command): void {
  const cadence = program.command('cadence').description("the active config's cadences, and moving running journeys to a new definition of one");

  cadence
    .command('list')
    .description("the cadences of the active config version (or of a file), with each step's id, kind and template(s) or wait")
    .option('--config <file>', 'list the cadences of this file instead')
    .action(async (opts: { config?: string }) => {
      if (opts.config) {
        for (const line of describeCadences(loadConfig(opts.config))) console.log(line);
        return;
      }
      await withStore(async (store) => {
        const active = await store.activeConfig();
        if (!active) throw new Error(NO_ACTIVE_VERSION);
        const { config } = await storedConfig(store, active.version);
        console.log(`config version ${active.version} (active since ${active.activatedAt.toISOString()})`);
        for (const line of describeCadences(config)) console.log(line);
      });
    });

  cadence
    .command('simulate')
    .description(
      'print the exact timeline a lead or an account would follow under a config: every touch in UTC and in the contact\'s time, with each shift (window, weekend, holiday, limit) and why; ' +
        'runs the production workflow code on the time-skipping test server, with activities that record instead of sending',
    )
    .requiredOption('--config <file>', 'the config to simulate')
    .option('--lead <file>', 'a lead (JSON, as for lead add)')
    .option('--account <file>', 'an account (JSON, as for account add)')
    .option('--events <file>', 'what the contact does and when (YAML or JSON), e.g. "- { after: 12d, event: replied }"')
    .option('--until <duration>', 'simulate at most this long, e.g. 90d, 52w, 2y', '2y')
    .option('--start <iso>', 'when the journey starts (not in the past); now when left out')
    .option('--json', 'print one JSON object per touch (at, local, channel, step, template, to, contact, shifted)')
    .action(async (opts: { config: string; lead?: string; account?: string; events?: string; until: string; start?: string; json?: boolean }) => {
      if (Boolean(opts.lead) === Boolean(opts.account)) throw new Error('give exactly one of --lead FILE and --account FILE');
      // Loaded here: the worker and test-server SDK are heavy, and no other command needs them.
      const { formatOutcome, formatTimeline, loadSimulatedEvents, simulate, simulationDurationMs } = await import('./simulate');
      const config = loadConfig(opts.config);
      const lead = opts.lead ? parseLead(readJson(opts.lead, opts.lead), opts.lead) : undefined;
      const account = opts.account ? parseAccount(readJson(opts.account, opts.account), opts.account) : undefined;
      const events = opts.events ? loadSimulatedEvents(opts.events) : [];
      const start = opts.start ? new Date(opts.start) : undefined;
      if (start && Number.isNaN(start.getTime())) throw new Error(`--start "${opts.start}": expected an ISO time such as 2027-01-04T09:00:00Z`);
      simulationDurationMs(opts.until);
      const result = await simulate({ config, lead, account, events, until: opts.until, start, onProgress: (line) => console.error(line) });
      if (opts.json) for (const touch of result.touches) console.log(JSON.stringify(touch));
      else for (const line of [...formatTimeline(result.touches, { showContact: Boolean(account) }), ...formatOutcome(result)]) console.log(line);
    });

  cadence
    .command('migrate <name>')
    .description(
      'apply the file as the active config version, then move the running journeys and account programs in cadence <name> to its new definition at their next step boundary; ' +
        'steps are matched by id, and each journey records the move in its history',
    )
    .requiredOption('--config <file>', 'the config file with the new definition of the cadence (validated, then applied)')
    .option('--dry-run', 'apply nothing and move nothing: list the running journeys and where each is in the cadence')
    .option('--verbose', "print each journey's answer")
    .action(async (name: string, opts: { config: string; dryRun?: boolean; verbose?: boolean }) => {
      // Checked before connecting to anything: a typo must not apply a version or reach a journey.
      const { config } = readConfigFile(opts.config);
      const definition = config.cadences[name];
      if (!definition) throw new Error(`no cadence named "${name}" in ${opts.config}: expected one of ${Object.keys(config.cadences).join(', ')}`);
      if (opts.dryRun) {
        await withClient((client) => dryRun(client, name, config));
        return;
      }
      let applied: AppliedConfig | undefined;
      await withStore(async (store) => {
        applied = await applyConfigFile(store, opts.config, actor(`cadence migrate ${name}`));
        console.log(appliedLine(applied));
      });
      await withClient(async (client) => {
        const summary = await migrate(client, { cadence: name, definition, configVersion: applied!.version }, opts.verbose ?? false);
        console.log(`${summary.moved} moved, ${summary.notMoved} not in that cadence/ended, ${summary.older} older journeys`);
        if (summary.older) console.log(`the ${summary.older} older journey(s) started before cadences could be migrated: they finish on the version they started with`);
        if (summary.failed.length) {
          for (const { workflowId, error } of summary.failed.slice(0, 10)) console.error(`${workflowId}: not moved: ${error}`);
          if (summary.failed.length > 10) console.error(`... and ${summary.failed.length - 10} more`);
          throw new Error(`${summary.failed.length} journey(s) could not be asked; run the command again to retry them (a journey never moves twice to one version)`);
        }
      });
    });
}

// For every command that starts journeys (lead add, the intake, account add, imports): which config
// they follow, and what became of their old --config option.

/** Help for the commands that start journeys: which config they follow. */
export const ACTIVE_CONFIG_HELP = `
New journeys follow the active config version (\`pipewright config show\`);
\`pipewright config apply FILE\` changes it for every way a lead gets in. While
none has been applied, the first use applies PIPEWRIGHT_CONFIG (else the example
config). --config FILE is no longer taken here: apply the file first.`;

/** --config used to pick a file per command; kept hidden so a script that passes it is told what to do. */
export function removedConfigOption(): Option {
  return new Option('--config <file>', 'no longer taken: run `pipewright config apply FILE` first').hideHelp();
}

export function refuseConfigOption(command: string, file: string | undefined): void {
  if (file === undefined) return;
  throw new Error(
    `${command} no longer takes --config: one config version is in force for every lead. Run \`pipewright config apply ${file}\` to make it the active version, then ${command} again without --config.`,
  );
}

export function describeActive(active: ActiveConfigResult): string {
  return active.source === 'file' ? `config version ${active.version} active (applied ${active.file}: none was active)` : `config version ${active.version} active`;
}

const NO_ACTIVE_VERSION =
  'no config version is active yet: `pipewright config apply FILE` makes one active (the first `lead add`, or the intake, applies PIPEWRIGHT_CONFIG or the example config)';

const isVersion = (spec: string) => /^v\d+$/.test(spec);

async function configOf(spec: string, store: Store | undefined): Promise<Config> {
  if (isVersion(spec)) return (await storedConfig(store!, Number(spec.slice(1)))).config;
  return readConfigFile(spec).config;
}

/** `config version 3 is now active (was 2)`, then what changed since the version it replaced. */
async function describeApplied(store: Store, applied: AppliedConfig): Promise<string[]> {
  const lines = [appliedLine(applied)];
  if (!applied.activated || applied.previous === undefined) return lines;
  let before: Config;
  try {
    before = (await storedConfig(store, applied.previous)).config;
  } catch {
    return lines; // A version today's schema refuses cannot be compared; applying is what fixes it.
  }
  const changes = diffConfigs(before, applied.config);
  lines.push(...formatChanges(changes).map((line) => `  ${line}`));
  const cadences = [...new Set(changes.filter(isCadenceChange).map((c) => c.cadence))];
  if (cadences.length) {
    lines.push(
      `journeys already running keep the version they started with; to move them: ${cadences.map((c) => `pipewright cadence migrate ${c} --config FILE`).join(', ')}`,
    );
  }
  return lines;
}
function appliedLine(applied: AppliedConfig): string {
  return applied.activated ? `config version ${applied.version} is now active (was ${applied.previous ?? 'none'})` : `config version ${applied.version} is already active`;
}

function isCadenceChange(change: ConfigChange): change is Extract<ConfigChange, { cadence: string }> {
  return 'cadence' in change && change.kind !== 'cadence-added';
}

/** Loosely typed: `show` works on a stored version even when today's schema would refuse it. */
interface StoredShape {
  cadences?: Record<string, { steps?: unknown[] }>;
  templates?: Record<string, unknown>;
  sender?: { email?: string };
}

/**
 * The stored config with its keys in the file's order (cadences as written), read from the stored
 * text: the stored JSON (jsonb) keeps no key order. Validated when today's schema accepts it (with
 * its defaults, as journeys get it); else the text as parsed, else the stored JSON, so a version an
 * older Pipewright stored can still be looked at.
 */
function inFileOrder(source: string, stored: unknown): unknown {
  try {
    return parseConfig(source, 'stored config');
  } catch {
    try {
      return parseYaml(source) ?? stored;
    } catch {
      return stored;
    }
  }
}

function describeVersion(version: number, stored: unknown, sha256: string, history: ConfigActivation[]): string[] {
  const activations = history.map((a, i) => ({ ...a, until: i === 0 ? undefined : history[i - 1]!.activatedAt })).filter((a) => a.version === version);
  const latest = activations[0];
  const by = (a: ConfigActivation) => (a.activatedBy ? `, by ${a.activatedBy}` : '');
  const status =
    history[0]?.version === version && latest
      ? `active since ${latest.activatedAt.toISOString()}${by(latest)}`
      : latest
        ? `not active (last active from ${latest.activatedAt.toISOString()} to ${latest.until!.toISOString()}${by(latest)})`
        : 'never active';
  const config = (stored ?? {}) as StoredShape;
  const cadences = Object.entries(config.cadences ?? {}).map(([name, c]) => `${name} (${c.steps?.length ?? 0} steps)`);
  return [
    `config version ${version}: ${status}`,
    `sha256 ${sha256.slice(0, 12)}${activations.length > 1 ? `, activated ${activations.length} times` : ''}`,
    `cadences: ${cadences.join(', ') || 'none'}`,
    `templates: ${Object.keys(config.templates ?? {}).length}`,
  ];
}

function describeCadences(config: Config): string[] {
  const uses = (name: string): string[] => [
    ...(config.journey.nurtureCadence === name ? ['leads outside the ICP'] : []),
    ...(['A', 'B', 'C'] as const).filter((tier) => config.tiers?.programs[tier].cadence === name).map((tier) => `tier ${tier} accounts`),
  ];
  const lines: string[] = [];
  for (const [name, cadence] of Object.entries(config.cadences)) {
    const used = uses(name);
    lines.push(`${name}: ${cadence.steps.length} steps${used.length ? `, for ${used.join(' and ')}` : ''}; exits on ${exits(cadence.exitOn)}`);
    const rows = cadence.steps.map((step: CadenceStep, i) => {
      const described = describeStep(step);
      const at = described.indexOf(': ');
      return [`  ${i + 1}`, step.id, described.slice(0, at), described.slice(at + 2)];
    });
    lines.push(...columns(rows));
  }
  return lines;
}

function exits(exitOn: CadenceExit[]): string {
  return exitOn.join(', ');
}

/** Left-aligned columns two spaces apart; trailing blanks trimmed. */
function columns(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

// --- cadence migrate ---

/** The workflow types that run cadences. */
const CADENCE_WORKFLOWS = ['leadJourney', 'accountProgram'] as const;
/** Updates in flight at once: enough to move thousands of journeys in minutes, few enough to spare the server. */
const CONCURRENCY = 10;
/** More journeys than this get a progress bar. */
const BAR_ABOVE = 20;

interface Running {
  workflowId: string;
  type: string;
}

/** Running leadJourney and accountProgram workflows, by one list query (or one per type where IN is not supported). */
async function listRunning(client: Client): Promise<Running[]> {
  const collect = async (query: string) => {
    const found = new Map<string, Running>();
    for await (const info of client.workflow.list({ query })) found.set(info.workflowId, { workflowId: info.workflowId, type: info.type });
    return found;
  };
  try {
    return [...(await collect(`ExecutionStatus = 'Running' AND WorkflowType IN (${CADENCE_WORKFLOWS.map((t) => `'${t}'`).join(', ')})`)).values()];
  } catch {
    const all = new Map<string, Running>();
    for (const type of CADENCE_WORKFLOWS) for (const [id, r] of await collect(`ExecutionStatus = 'Running' AND WorkflowType = '${type}'`)) all.set(id, r);
    return [...all.values()];
  }
}

/** Runs `work` on every item, at most `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(lanes);
}

function progress(total: number, what: string): { tick(): void; stop(): void } {
  if (total <= BAR_ABOVE) return { tick: () => undefined, stop: () => undefined };
  const bar = new SingleBar({ format: `{bar} {value}/{total} ${what}`, stream: process.stderr, hideCursor: true }, Presets.shades_classic);
  bar.start(total, 0);
  return { tick: () => bar.increment(), stop: () => bar.stop() };
}

export interface MigrationSummary {
  moved: number;
  /** Not in that cadence, already ended, or already on this version. */
  notMoved: number;
  /** Started before journeys could take a migration: no handler for the update. */
  older: number;
  failed: { workflowId: string; error: string }[];
}

const isNotFound = (err: unknown) => err instanceof WorkflowNotFoundError || (err as Error)?.name === 'WorkflowNotFoundError';
const isEnded = (err: unknown) => isNotFound(err) || /already completed|workflow execution.*(completed|closed)/i.test(String((err as Error)?.message ?? err));
const isOlder = (err: unknown) => err instanceof WorkflowUpdateFailedError && /No registered handler for update/i.test(err.cause?.message ?? '');

export async function migrate(client: Client, request: CadenceMigration, verbose: boolean, log: (line: string) => void = console.log): Promise<MigrationSummary> {
  const running = await listRunning(client);
  const summary: MigrationSummary = { moved: 0, notMoved: 0, older: 0, failed: [] };
  log(`asking ${running.length} running journey(s) to take cadence ${request.cadence} of config version ${request.configVersion} at their next step boundary`);
  const bar = progress(running.length, 'journeys asked');
  const say = (line: string) => verbose && log(line);
  try {
    await eachLimited(running, CONCURRENCY, async ({ workflowId }) => {
      try {
        // No run ID: a journey that continued as new is asked in its current run.
        const answer: MigrationAnswer = await client.workflow.getHandle(workflowId).executeUpdate(migrateCadenceUpdate, { args: [request] });
        if (answer.moved) summary.moved++;
        else summary.notMoved++;
        say(`${workflowId}: ${answer.moved ? 'moved' : 'not moved'}: ${answer.detail}`);
      } catch (err) {
        if (isOlder(err)) {
          summary.older++;
          say(`${workflowId}: not moved: started before cadences could be migrated`);
        } else if (isEnded(err)) {
          summary.notMoved++;
          say(`${workflowId}: not moved: ended`);
        } else {
          summary.failed.push({ workflowId, error: (err as Error)?.message ?? String(err) });
        }
      } finally {
        bar.tick();
      }
    });
  } finally {
    bar.stop();
  }
  return summary;
}

/** What `--dry-run` prints: each running journey in that cadence and its step, from the journeys' state queries. */
async function dryRun(client: Client, name: string, config: Config): Promise<void> {
  const running = await listRunning(client);
  const lines: string[] = [];
  let inCadence = 0;
  let other = 0;
  const failed: string[] = [];
  const bar = progress(running.length, 'journeys read');
  try {
    await eachLimited(running, CONCURRENCY, async ({ workflowId, type }) => {
      try {
        const runs = await runsOf(client, workflowId, type);
        const mine = runs.filter(({ run }) => run.cadence === name && run.status !== 'done');
        if (!mine.length) other++;
        for (const { who, run } of mine) {
          inCadence++;
          // The step's id is known from a migrated run's definition or a touch it waits to make.
          const stepId = run.definition?.steps[run.step]?.id ?? run.pending?.stepId;
          const target = stepId === undefined ? '' : config.cadences[name]!.steps.some((s) => s.id === stepId) ? `, kept in the new definition` : `, removed in the new definition (moves to the next step it keeps)`;
          const version = run.configVersion === undefined ? 'started before config versions' : `config version ${run.configVersion}`;
          lines.push(`${workflowId}${who ? ` (${who})` : ''}: at step ${run.step + 1}${stepId ? ` (${stepId}${target})` : ''}, ${run.status}, ${version}`);
        }
      } catch (err) {
        failed.push(`${workflowId}: cannot read its state: ${(err as Error)?.message ?? err}`);
      } finally {
        bar.tick();
      }
    });
  } finally {
    bar.stop();
  }
  for (const line of lines.sort()) console.log(line);
  for (const line of failed) console.error(line);
  console.log(
    `dry run: ${running.length} running journey(s); ${inCadence} in cadence ${name} would be asked to move, ${other} not in it or ended${failed.length ? `, ${failed.length} unreadable` : ''}; nothing was applied or moved`,
  );
}

/** The cadence runs a journey reports: a lead's one, an account program's one per contact. */
async function runsOf(client: Client, workflowId: string, type: string): Promise<{ who?: string; run: CadenceRun }[]> {
  const handle = client.workflow.getHandle(workflowId);
  if (type === 'accountProgram') {
    const state = await handle.query<{ contacts?: { email: string; run?: CadenceRun }[] }>('program');
    return (state.contacts ?? []).filter((c) => c.run).map((c) => ({ who: c.email, run: c.run! }));
  }
  const state = await handle.query(journeyStateQuery);
  return state.cadence ? [{ run: state.cadence }] : [];
}
