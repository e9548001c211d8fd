// The journey's events for the store (assigned, touched, SLA met or breached, ended...), buffered in
// the workflow and written in batches by a local activity: one history marker per batch, however
// many events a burst of signals brought.
import { proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { JourneyEventType } from '../store/types';
import { LOCAL_STORE_CALL } from './history';

const { recordJourneyEvents } = proxyLocalActivities<Activities>(LOCAL_STORE_CALL);

export interface JournalEntry {
  /** Unique per run and position, so a retried batch is stored once. */
  key: string;
  journeyId: string;
  type: JourneyEventType;
  at: string;
  detail?: Record<string, unknown>;
}

export class Journal {
  private seq = 0;
  private pending: JournalEntry[] = [];

  constructor(
    private readonly journeyId: string,
    private readonly runId: string,
  ) {}

  add(type: JourneyEventType, detail?: Record<string, unknown>): void {
    this.pending.push({ key: `${this.journeyId}/${this.runId}/${++this.seq}`, journeyId: this.journeyId, type, at: new Date(Date.now()).toISOString(), detail });
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    // Removed only once stored: a batch cut short (the journey was cancelled) goes out with the next.
    const batch = this.pending.slice();
    await recordJourneyEvents(batch);
    this.pending.splice(0, batch.length);
  }
}
