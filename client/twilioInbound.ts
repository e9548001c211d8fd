// SMS that people text back to our Twilio number. Twilio posts each one to the intake's public face,
// signed with the account's auth token (X-Twilio-Signature). An opt-out keyword stops SMS to that
// number at once, START lifts it, and anything else is a reply for the journeys that texted them.
import type { Client } from '@temporalio/client';
import twilio from 'twilio';
import type { Store } from '../store';
import { addressOfJourney } from '../config/vocabulary';
import { normalisePhone } from '../config/phone';
import { sendAccountEvent } from './accounts';
import { LeadRequestError, sendLeadEvent } from './leads';

export const TWILIO_SIGNATURE_HEADER = 'x-twilio-signature';

/** Twilio's own default keywords (its Advanced Opt-Out): the carrier-level opt-out and ours agree. */
const OPT_OUT = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT']);
const OPT_IN = new Set(['START', 'UNSTOP', 'YES']);

/**
 * Checks a request as Twilio signed it: the auth token's HMAC over the URL Twilio called and the
 * posted parameters. The URL is the public one (PIPEWRIGHT_PUBLIC_URL), as set in Twilio's console:
 * behind a proxy that ends TLS, the intake's own view of the URL differs from the one signed.
 */
export function twilioSignatureValid(authToken: string | undefined, signature: unknown, url: string, params: Record<string, string>): boolean {
  if (!authToken || typeof signature !== 'string' || !signature) return false;
  return twilio.validateRequest(authToken, signature, url, params);
}

export type InboundOutcome =
  | { kind: 'opted-out' | 'opted-in'; phone: string; keyword: string }
  | { kind: 'reply'; phone: string; delivered: string[] }
  | { kind: 'ignored'; why: string };

/** What an inbound SMS (Twilio's From and Body) does; it never throws for a journey that has ended or is unknown. */
export async function handleInboundSms(client: Client, store: Store, params: Record<string, string>, log: (line: string) => void): Promise<InboundOutcome> {
  const number = normalisePhone(params.From ?? '');
  if ('error' in number) return { kind: 'ignored', why: `From: ${number.error}` };
  const phone = number.e164;
  const keyword = (params.Body ?? '').trim().toUpperCase();
  if (OPT_OUT.has(keyword)) {
    await store.optOutSms(phone, keyword);
    return { kind: 'opted-out', phone, keyword };
  }
  if (OPT_IN.has(keyword)) {
    await store.optInSms(phone);
    return { kind: 'opted-in', phone, keyword };
  }
  const delivered: string[] = [];
  for (const { journeyId, contact } of await store.smsConversations(phone)) {
    try {
      const told = addressOfJourney(journeyId)
        ? await sendLeadEvent(client, store, { id: journeyId }, 'replied', 'sms')
        : await sendAccountEvent(client, store, journeyId, { type: 'replied', contact }, 'sms');
      if (told.delivered) delivered.push(journeyId);
    } catch (err) {
      // An ended or vanished journey has nobody to tell; Twilio must not retry for it.
      if (!(err instanceof LeadRequestError)) throw err;
      log(`intake: SMS reply from ${phone} not delivered to ${journeyId}: ${err.message}`);
    }
  }
  return { kind: 'reply', phone, delivered };
}
