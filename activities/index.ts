import type { Client } from '@temporalio/client';
import type { Store } from '../store';
import type { SendIntent } from '../store/types';
import type { JournalEntry } from '../workflows/journal';
import { cadenceEmailMessage, type CadenceEmailInput } from './cadenceEmail';
import { deliver, type DeliveryResult } from './deliver';
import { createLegacyActivities } from './legacy';
import type { Mailer } from './mail';
import { escalationMessage, repNoticeMessage, type EscalationInput, type NotifyRepInput } from './repNotices';
import { holidayNamesFor } from './holidays';
import { requestRep, type RepRequestInput } from './requestRep';
import type { SmsSender } from './sms';
import { activeConfigSource } from './activeConfig';
import { sendManagerDigests, type DigestInput } from './digest';
import { assignLead, releaseLead, type AssignInput, type AssignAnswer, type ReleaseInput } from './routing';
import { deliverTeamMessage, type TeamMessageInput } from './teamMessages';
import { activeTemplates, deliverTask, deliverTouch, type TaskInput, type TouchInput, type TouchResult } from './touch';

export interface ActivityDeps {
  /** Talks to Temporal for the rep rotation; the worker's own connection. */
  client: Client;
  taskQueue: string;
  mailer: Mailer;
  store: Store;
  /** Twilio, when the worker has its credentials; SMS steps fail without it. */
  sms?: SmsSender;
}

/** The idempotency key of a message, chosen by the journey from its own ID and the step. */
type Keyed<T> = T & { key: string };

/** Every side effect a journey has, with its clients injected so no secret is imported by workflows. */
export function createActivities({ client, taskQueue, mailer, store, sms }: ActivityDeps) {
  const deps = { store, mailer };
  const configs = activeConfigSource(store);
  const touchDeps = { store, mailer, sms, templates: activeTemplates(configs) };
  const routing = { store, client, configs };
  return {
    /** Version-3 journeys ask the rotation workflow; later ones the store. */
    requestRep: (input: RepRequestInput) => requestRep(client, taskQueue, input),
    assignLead: (input: AssignInput): Promise<AssignAnswer> => assignLead(routing, input),
    releaseLead: (input: ReleaseInput) => releaseLead(routing, input),
    sendManagerDigests: (input: DigestInput) => sendManagerDigests({ store, mailer, configs }, input),
    deliverTeamMessage: (input: TeamMessageInput): Promise<DeliveryResult> => deliverTeamMessage({ store, mailer, sms }, input),
    deliverRepNotice: (input: Keyed<NotifyRepInput>): Promise<DeliveryResult> =>
      deliver(deps, { key: input.key, journeyId: input.leadId, kind: 'rep-notice', message: repNoticeMessage(input) }),
    deliverEscalation: (input: Keyed<EscalationInput>): Promise<DeliveryResult> =>
      deliver(deps, { key: input.key, journeyId: input.leadId, kind: 'escalation', message: escalationMessage(input) }),
    deliverCadenceEmail: async (input: Keyed<CadenceEmailInput>): Promise<DeliveryResult & { subject: string }> => {
      const message = cadenceEmailMessage(input);
      const result = await deliver(deps, { key: input.key, journeyId: input.leadId, kind: 'cadence', message });
      return { ...result, subject: message.subject };
    },
    deliverTouch: (input: TouchInput): Promise<TouchResult> => deliverTouch(touchDeps, input),
    deliverTask: (input: TaskInput): Promise<DeliveryResult> => deliverTask(touchDeps, input),
    /** The journey saw a touch leave later than claimed: the limits count from when it left. */
    noteTouchTime: ({ key, at }: { key: string; at: string }): Promise<void> => store.noteTouchTime(key, new Date(at)),
    /** A contact's public holidays by local date, with their names (date-holidays is too big for the workflow sandbox). */
    publicHolidays: async ({ country, years }: { country: string; years: number[] }): Promise<Record<string, string>> => holidayNamesFor(country, years),
    /** A send whose retries ran out: the ledger says failed, and the journey goes on. */
    settleFailedSend: async (failed: Omit<SendIntent, 'channel' | 'messageId'> & { detail: string }): Promise<void> => {
      // The claim is there unless the very first attempt failed before reaching the ledger.
      await store.claimSend({ key: failed.key, journeyId: failed.journeyId, kind: failed.kind, channel: 'email', recipient: failed.recipient });
      await store.settleSend(failed.key, { status: 'failed', detail: failed.detail, at: new Date() });
    },
    suppressContact: async (suppression: Parameters<Store['suppress']>[0]): Promise<void> => {
      await store.suppress(suppression);
    },
    recordJourneyEvents: (entries: JournalEntry[]): Promise<void> =>
      store.recordEvents(entries.map((entry) => ({ ...entry, at: new Date(entry.at) }))),
    ...createLegacyActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
