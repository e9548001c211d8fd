// `pipewright replay`: the check before a new worker version goes out. It downloads the histories of
// journeys on the cluster (by default every running one) and replays them against the workflow code
// of this build, as the new workers would when they pick those journeys up. A change that running
// journeys would replay differently shows up here as a mismatch, before it can stall them in
// production; the recorded histories in test/replay catch it earlier, for the shapes they cover.
import type { Client } from '@temporalio/client';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { workflowsPath } from '../worker/worker';

/** Visibility query of the journeys a deploy will meet: every workflow still running. */
export const RUNNING = 'ExecutionStatus = "Running"';

export interface ReplayMismatch {
  workflowId: string;
  runId: string;
  /** DeterminismViolationError (the code takes another path) or ReplayError (the history could not be replayed). */
  kind: string;
  message: string;
}

export interface ReplayOutcome {
  replayed: number;
  mismatches: ReplayMismatch[];
}

export interface ReplayOptions {
  query?: string;
  /** At most this many workflows (the newest first, as visibility lists them). */
  limit?: number;
  /** The code to replay against: this build's workflows unless a bundle is given. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  onReplayed?: (replayed: number) => void;
}

export async function replayWorkflows(client: Client, options: ReplayOptions = {}): Promise<ReplayOutcome> {
  const { query = RUNNING, limit = Number.POSITIVE_INFINITY } = options;
  const histories = limited(client.workflow.list({ query }).intoHistories({ concurrency: 4 }), limit);
  const code = options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: workflowsPath() };
  const outcome: ReplayOutcome = { replayed: 0, mismatches: [] };
  for await (const result of Worker.runReplayHistories({ ...code, replayName: 'pipewright replay' }, histories)) {
    outcome.replayed++;
    options.onReplayed?.(outcome.replayed);
    if (result.error) {
      outcome.mismatches.push({ workflowId: result.workflowId, runId: result.runId, kind: result.error.name, message: firstLine(result.error.message) });
    }
  }
  return outcome;
}

async function* limited<T>(items: AsyncIterable<T>, limit: number): AsyncIterable<T> {
  if (limit <= 0) return;
  let n = 0;
  for await (const item of items) {
    yield item;
    if (++n >= limit) return;
  }
}

const firstLine = (message: string) => message.split('\n')[0]!.slice(0, 400);
