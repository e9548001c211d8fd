// `pipewright replay`: run before a new worker version is deployed (README, operations guide).
import { Presets, SingleBar } from 'cli-progress';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { withClient } from './commandContext';
import { replayWorkflows, RUNNING } from './replayRunning';

const positive = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
};

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description("before deploying a new worker version: replay journeys on the server (by default every running one) against this build's workflow code, and name every journey it would replay differently")
    .option('--query <visibility query>', 'which workflows to replay', RUNNING)
    .addOption(new Option('--limit <n>', 'at most this many, newest first').argParser(positive))
    .addHelpText(
      'after',
      `
Exit status 0 when every history replays; 1 when any would not, with each such journey's ID and
the reason (a DeterminismViolationError means the new code takes another path: guard the change with
patched(), see the operations guide). Run it from the new build against the production namespace
(TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY); it only reads histories.`,
    )
    .action((opts: { query: string; limit?: number }) =>
      withClient(async (client) => {
        // The replay worker's start and stop are not news; its warnings and errors still show.
        Runtime.install({ logger: new DefaultLogger('WARN') });
        const { count } = await client.workflow.count(opts.query);
        const total = Math.min(count, opts.limit ?? count);
        const bar = process.stderr.isTTY ? new SingleBar({ format: 'replay [{bar}] {value}/{total} histories | {eta_formatted} left', stream: process.stderr }, Presets.shades_classic) : undefined;
        bar?.start(total, 0);
        const outcome = await replayWorkflows(client, { query: opts.query, limit: opts.limit, onReplayed: (n) => bar?.update(n) }).finally(() => bar?.stop());
        for (const m of outcome.mismatches) console.log(`MISMATCH ${m.workflowId} (run ${m.runId}): ${m.kind}: ${m.message}`);
        const summary = `replayed ${outcome.replayed} workflow histories (${opts.query}) against this build: ${outcome.mismatches.length === 0 ? 'every one replays' : `${outcome.mismatches.length} would not`}`;
        if (outcome.mismatches.length) {
          console.error(summary);
          process.exitCode = 1;
        } else console.log(summary);
      }),
    );
}
