// The deadlines a journey waits for (an SLA rung, the next cadence step, the end of a quiet spell),
// kept on timers the journey never cancels.
//
// Why never cancel: a wait that a signal ends before its deadline used to cancel its timer, and
// the next wait started another, so every wake cost two history events per waiter. And the
// time-skipping test server refuses a workflow-task completion that cancels a timer which fired
// while the task was with the worker, then strands the run (sdk-java issues 2606 and 3088); the
// real server accepts it. Since version 5 a task can hold a local activity for tens of
// milliseconds, long enough to meet a timer due just then.
//
// So one timer runs to the earliest deadline anyone waits for. A later deadline needs no timer of
// its own: when the earlier one rings, every waiter looks again and the next earliest is armed.
// A timer left behind by a deadline that moved later rings once for nothing: one quiet task.
import { CancellationScope, condition, sleep } from '@temporalio/workflow';

export class Alarm {
  /** When each timer started and not yet rung will ring (workflow time, epoch ms). */
  private readonly armed = new Set<number>();
  private rings = 0;

  /** Resolves once `done()` holds or the deadline has passed. */
  async wait(done: () => boolean, deadline: number): Promise<void> {
    if (!Number.isFinite(deadline)) return condition(done);
    while (!done() && Date.now() < deadline) {
      this.arm(deadline);
      const rings = this.rings;
      await condition(() => done() || this.rings !== rings);
    }
  }

  private arm(deadline: number): void {
    for (const at of this.armed) if (at <= deadline) return;
    this.armed.add(deadline);
    // Outside every cancellation scope: stopping a journey's outreach must not cancel it either.
    void CancellationScope.nonCancellable(() => sleep(deadline - Date.now())).then(() => {
      this.armed.delete(deadline);
      this.rings++;
    });
  }
}

/** How a journey waits: until `done()` or the deadline (epoch ms). */
export type Wait = (done: () => boolean, deadline: number) => Promise<void>;

/** The wait of journeys before version 5: `condition` with a timeout, its timer cancelled at a wake. */
export const conditionWait: Wait = async (done, deadline) => {
  if (Number.isFinite(deadline)) await condition(done, deadline - Date.now());
  else await condition(done);
};
