// Every outbound message goes through here: effectively once per idempotency key, never to a
// suppressed address, and a permanent rejection settled as bounced instead of retried forever.
import { Context } from '@temporalio/activity';
import type { Store } from '../store';
import type { Channel, SendKind, SendRecord } from '../store/types';
import type { Mailer } from './mail';

export interface EmailMessage {
  from: { name: string; address: string };
  to: { name?: string; address: string };
  cc?: { name: string; address: string };
  subject: string;
  text: string;
  /** An HTML template's body; `text` then carries the same words without markup. */
  html?: string;
  headers?: Record<string, string>;
  /** The same on every attempt, so a mail system can drop a duplicate from the window of doubt. */
  messageId: string;
}

export interface Delivery {
  /** Derived from the journey and the step, never from the attempt. */
  key: string;
  journeyId: string;
  kind: SendKind;
  message: EmailMessage;
}

export interface DeliveryResult {
  status: 'sent' | 'skipped' | 'bounced' | 'failed';
  detail?: string;
}

export interface DeliveryDeps {
  store: Store;
  mailer: Mailer;
}

const HEARTBEAT_MS = 5_000;

/**
 * Records the intent, sends, records the result. A key already settled is answered from the
 * ledger without sending. The one window of doubt: a crash after the SMTP server accepted the
 * message and before the ledger says so; the retry then sends it again, with the same Message-ID.
 */
export async function deliver({ store, mailer }: DeliveryDeps, delivery: Delivery): Promise<DeliveryResult> {
  const { key, journeyId, kind, message } = delivery;
  const recipient = message.to.address;
  const claim = await store.claimSend({ key, journeyId, kind, channel: 'email', recipient, messageId: message.messageId });
  return sendClaimed(store, claim, { contact: recipient, transport: emailTransport(mailer, message) });
}

/** How a message leaves: one channel's send, and how to tell its permanent failures from passing ones. */
export interface Transport {
  channel: Channel;
  /** Sends once; answers the server's reply or message ID for the ledger. */
  send(): Promise<{ response?: string; messageId?: string }>;
  isPermanent(err: unknown): boolean;
  reason(err: unknown): string;
}

export function emailTransport(mailer: Mailer, message: EmailMessage): Transport {
  return {
    channel: 'email',
    send: async () => ({ response: (((await mailer.sendMail(message)) ?? {}) as { response?: string }).response, messageId: message.messageId }),
    isPermanent,
    reason: smtpReason,
  };
}

/**
 * The rest of a delivery once the ledger holds the claim: the suppression check (by the contact's
 * e-mail, on the transport's channel, and an SMS's number), the send under a heartbeat, and the settled result.
 */
export async function sendClaimed(store: Store, claim: SendRecord, { contact, transport }: { contact: string; transport: Transport }): Promise<DeliveryResult> {
  if (claim.status !== 'sending') return { status: claim.status as DeliveryResult['status'], detail: claim.detail };
  const { key, kind } = claim;
  const suppression = await store.suppressionFor(contact, transport.channel);
  // A number that texted STOP is out whoever's contact it is now; the ledger's recipient is the number.
  const optOut = transport.channel === 'sms' ? await store.smsOptOut(claim.recipient) : undefined;
  if (suppression || optOut) {
    const detail = suppression
      ? `suppressed: ${suppression.reason} (${suppression.source}, ${suppression.createdAt.toISOString()})`
      : `opted out: ${claim.recipient} texted ${optOut!.keyword} (${optOut!.createdAt.toISOString()})`;
    await store.settleSend(key, { status: 'skipped', detail, at: new Date() });
    return { status: 'skipped', detail };
  }

  let accepted: { response?: string; messageId?: string };
  const beat = setInterval(() => heartbeat(), HEARTBEAT_MS);
  try {
    accepted = await transport.send();
  } catch (err) {
    const reason = transport.reason(err);
    if (!transport.isPermanent(err)) {
      await store.noteSendError(key, reason);
      throw err;
    }
    await store.settleSend(key, { status: 'bounced', detail: reason, at: new Date() });
    // A contact's address that bounces is suppressed on that channel; a teammate's is a config problem.
    if (kind === 'cadence') await store.suppress({ email: contact, channel: transport.channel, reason: `bounced: ${reason}`, source: 'bounce' });
    return { status: 'bounced', detail: reason };
  } finally {
    clearInterval(beat);
  }
  await store.settleSend(key, { status: 'sent', detail: accepted.response, messageId: accepted.messageId, at: new Date() });
  return { status: 'sent' };
}

function heartbeat(): void {
  try {
    Context.current().heartbeat();
  } catch {
    // Outside an activity (a direct call in a unit test) there is nobody to tell.
  }
}

interface SmtpError {
  responseCode?: number;
  code?: string;
  response?: string;
  message?: string;
}

/** 5xx from the SMTP server, or an address it could never take: retrying cannot help. */
export function isPermanent(err: unknown): boolean {
  const { responseCode, code } = (err ?? {}) as SmtpError;
  if (typeof responseCode === 'number') return responseCode >= 500 && responseCode < 600;
  return code === 'EENVELOPE';
}

function smtpReason(err: unknown): string {
  const { response, message } = (err ?? {}) as SmtpError;
  return (response ?? message ?? String(err)).split('\n')[0]!.slice(0, 500);
}
