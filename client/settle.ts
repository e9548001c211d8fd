// Waiting, on the time-skipping server, for a workflow to finish what it is doing before the clock
// is moved. That server holds its clock still while an activity runs, but not while a workflow task
// is with the worker, and a local activity runs inside the task: a skip started then jumps ahead
// of work the task has not finished, and its timers start from where the clock landed.
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const { EventType } = temporal.api.enums.v1;
const TASK_ENDED = new Set([EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED, EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT]);

/** Resolves once the workflow has no workflow task outstanding (or has closed); fails after `timeoutMs`. */
export async function untilSettled(handle: WorkflowHandle, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = (await handle.fetchHistory()).events ?? [];
    let outstanding = false;
    for (const { eventType } of events) {
      if (eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED) outstanding = true;
      else if (eventType != null && TASK_ENDED.has(eventType)) outstanding = false;
    }
    if (!outstanding) return;
    if (Date.now() > deadline) throw new Error(`${handle.workflowId} still had a workflow task outstanding after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
