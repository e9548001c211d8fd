// Signed webhooks for CRMs that cannot hold an API key but can sign what they send, on Stripe's
// model: the header `Pipewright-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.
// A signature older or newer than the window is refused, and so is one seen before (a replay).
// Secrets come from PIPEWRIGHT_WEBHOOK_SECRETS, comma-separated: every one verifies, so a CRM can
// move to a new secret while the old one still works.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_SECRETS_ENV = 'PIPEWRIGHT_WEBHOOK_SECRETS';
export const SIGNATURE_HEADER = 'pipewright-signature';
/** How far a signature's time may be from the intake's clock. */
export const REPLAY_WINDOW_S = 300;
const MIN_SECRET_LENGTH = 32;

/** The secrets from the environment; none when unset (the webhook then refuses everything). */
export function webhookSecretsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const secrets = (env[WEBHOOK_SECRETS_ENV] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const [i, secret] of secrets.entries()) {
    if (secret.length < MIN_SECRET_LENGTH) throw new Error(`${WEBHOOK_SECRETS_ENV}: secret ${i + 1} is shorter than ${MIN_SECRET_LENGTH} characters`);
  }
  return secrets;
}

export function signWebhook(secret: string, rawBody: string | Buffer, nowS = Math.floor(Date.now() / 1000)): string {
  return `t=${nowS},v1=${createHmac('sha256', secret).update(`${nowS}.`).update(rawBody).digest('hex')}`;
}

/**
 * Checks a webhook's signature header against the raw body. `seen` remembers the signatures
 * accepted within the window, so the same request sent again is refused.
 */
export class WebhookVerifier {
  private readonly seen = new Map<string, number>();

  constructor(private readonly secrets: readonly string[]) {}

  /** Undefined when the request is genuine and new; else why it is refused (for the log, not the caller). */
  refusal(header: string | string[] | undefined, rawBody: Buffer, nowS = Math.floor(Date.now() / 1000)): string | undefined {
    if (this.secrets.length === 0) return `${WEBHOOK_SECRETS_ENV} is not set`;
    if (typeof header !== 'string') return 'no signature header';
    const parts = new Map<string, string[]>();
    for (const part of header.split(',')) {
      const at = part.indexOf('=');
      if (at <= 0) continue;
      const name = part.slice(0, at).trim();
      parts.set(name, [...(parts.get(name) ?? []), part.slice(at + 1).trim()]);
    }
    const t = Number(parts.get('t')?.[0]);
    if (!Number.isInteger(t)) return 'no timestamp';
    if (Math.abs(nowS - t) > REPLAY_WINDOW_S) return 'timestamp outside the replay window';
    const given = (parts.get('v1') ?? []).filter((v) => /^[0-9a-f]{64}$/.test(v));
    // Each secret's signature of this body once, against every v1 the sender gave.
    const expected = this.secrets.map((secret) => createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest());
    const valid = given.some((v) => expected.some((digest) => timingSafeEqual(Buffer.from(v, 'hex'), digest)));
    if (!valid) return 'no valid signature';
    this.forgetOlderThan(nowS - REPLAY_WINDOW_S);
    const id = `${t}.${given.join('.')}`;
    if (this.seen.has(id)) return 'replayed';
    this.seen.set(id, t);
    return undefined;
  }

  private forgetOlderThan(cutoffS: number): void {
    for (const [id, t] of this.seen) if (t < cutoffS) this.seen.delete(id);
  }
}
