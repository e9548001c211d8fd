// Every outbound message goes through here: effectively once per idempotency key, never to a
// suppressed address, and a permanent rejection settled as bounced instead of retried forever.
import { Context } from '@temporalio/activity';
import type { Store } from '../store';
import type { SendKind } from '../store/types';
import type { Mailer } from './mail';

export interface EmailMessage {
  from: { name: string; address: string };
  to: { name?: string; address: string };
  cc?: { name: string; address: string };
  subject: string;
  text: string;
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
  if (claim.status !== 'sending') return { status: claim.status, detail: claim.detail };

  const suppression = await store.suppressionFor(recipient, 'email');
  if (suppression) {
    const detail = `suppressed: ${suppression.reason} (${suppression.source}, ${suppression.createdAt.toISOString()})`;
    await store.settleSend(key, { status: 'skipped', detail, at: new Date() });
    return { status: 'skipped', detail };
  }

  let accepted: unknown;
  const beat = setInterval(() => heartbeat(), HEARTBEAT_MS);
  try {
    accepted = await mailer.sendMail(message);
  } catch (err) {
    const reason = smtpReason(err);
    if (!isPermanent(err)) {
      await store.noteSendError(key, reason);
      throw err;
    }
    await store.settleSend(key, { status: 'bounced', detail: reason, at: new Date() });
    // A contact's address that bounces is suppressed for e-mail; a teammate's is a config problem.
    if (kind === 'cadence') await store.suppress({ email: recipient, channel: 'email', reason: `bounced: ${reason}`, source: 'bounce' });
    return { status: 'bounced', detail: reason };
  } finally {
    clearInterval(beat);
  }
  const response = (accepted as { response?: string } | undefined)?.response;
  await store.settleSend(key, { status: 'sent', detail: response, messageId: message.messageId, at: new Date() });
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
