// Everything the store knows about one contact, for `pipewright contact show`.
import type { Store } from '../store';
import type { Contact, JourneyEvent, SendRecord, Suppression } from '../store/types';
import { toLeadId } from './leads';

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
  const [contact, suppressions, sends, events] = await Promise.all([
    store.contact(address),
    store.suppressions(address),
    store.sends({ journeyId: toLeadId(address), limit: 50 }),
    store.events({ journeyId: toLeadId(address), limit: 200 }),
  ]);
  return { email: address, contact, suppressions, sends, events };
}
