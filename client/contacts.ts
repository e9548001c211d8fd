// Everything the store knows about one contact, for `pipewright contact show`.
import type { Store } from '../store';
import type { Contact, JourneyEvent, SendRecord, Suppression } from '../store/types';
import { leadJourneyId } from '../config/vocabulary';

export interface ContactRecord {
  email: string;
  contact?: Contact;
  suppressions: Suppression[];
  /** Newest first. */
  sends: SendRecord[];
  /** Of the contact's journey, oldest first. */
  events: JourneyEvent[];
}

export async function contactRecord(store: Store, email: string): Promise<ContactRecord> {
  const address = email.trim().toLowerCase();
  const journeyId = leadJourneyId({ email: address });
  const [contact, suppressions, sends, events] = await Promise.all([
    store.contact(address),
    store.suppressions(address),
    store.sends({ journeyId, limit: 50 }),
    store.events({ journeyId, limit: 200 }),
  ]);
  return { email: address, contact, suppressions, sends, events };
}
