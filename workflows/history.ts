// What the lead journey, the account program and the cadence engine share: how their messages are
// retried, when a long run continues as new, and how to say why a message gave up.
import { ActivityCancellationType, ActivityFailure, isCancellation, proxyActivities, workflowInfo, type ActivityOptions, type LocalActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { SendKind } from '../store/types';
import { MAX_HISTORY_EVENTS } from './messages';

export function historyTooLong(): boolean {
  const { continueAsNewSuggested, historyLength } = workflowInfo();
  return continueAsNewSuggested || historyLength > MAX_HISTORY_EVENTS;
}

/** "activity timed out: 451 mailbox busy": the timeout and the last attempt's error beneath it. */
export function causes(err: unknown): string {
  const messages: string[] = [];
  for (let e = err instanceof ActivityFailure ? err.cause : (err as Error | undefined); e; e = (e as Error).cause as Error | undefined) {
    messages.push(e.message);
  }
  return messages.join(': ') || String(err);
}

/**
 * Messages retry transient failures (SMTP down, 4xx) with backoff for up to 6 hours; then the step is
 * recorded as failed and the journey goes on. A permanent rejection (5xx) is not retried at all: the
 * activity answers "bounced". Heartbeats let a crashed worker's send be retried within a minute.
 * A stopped journey abandons a send in flight rather than asking it to stop: a message half-way to
 * the SMTP server cannot be called back, and the ledger records how it ended either way.
 */
export const MESSAGE_DELIVERY: ActivityOptions = {
  cancellationType: ActivityCancellationType.ABANDON,
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  scheduleToCloseTimeout: '6 hours',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
};

/** Quick store writes and look-ups: retried until the store answers. */
export const STORE_CALL: ActivityOptions = { startToCloseTimeout: '1 minute', retry: { maximumInterval: '1 minute' } };

/**
 * The same, run by the worker inside the workflow task (a local activity): no trip through the
 * server's task queue, one marker in history. The store may be down for a while; the journey waits.
 */
export const LOCAL_STORE_CALL: LocalActivityOptions = { startToCloseTimeout: '30 seconds', retry: { maximumInterval: '1 minute' } };

/**
 * One quick try at a message inside the workflow task. Whatever it does not settle at once (SMTP
 * slow or down) goes on as a regular activity with MESSAGE_DELIVERY's retries, under the same key.
 */
export const QUICK_DELIVERY: LocalActivityOptions = { startToCloseTimeout: '5 seconds', retry: { maximumAttempts: 1 } };

const { settleFailedSend } = proxyActivities<Activities>(STORE_CALL);

/** A message whose retries ran out is settled in the ledger as failed, and the journey goes on. */
export async function settled<R extends { status: string; detail?: string }>(
  intent: { key: string; journeyId: string; kind: SendKind; recipient: string },
  send: () => Promise<R>,
): Promise<R | { status: 'failed'; detail: string }> {
  try {
    return await send();
  } catch (err) {
    if (isCancellation(err)) throw err;
    const detail = `gave up retrying: ${causes(err)}`;
    await settleFailedSend({ ...intent, detail });
    return { status: 'failed', detail };
  }
}
