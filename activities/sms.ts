// SMS through Twilio's own SDK. The credentials live only in the environment; the From number is
// the config's. PIPEWRIGHT_TWILIO_API_URL sends every request to a local stand-in for Twilio
// (a mock that checks requests against Twilio's OpenAPI description) while the SDK still builds them.
import twilio from 'twilio';
import type { Transport } from './deliver';
import type RequestClient from 'twilio/lib/base/RequestClient';

export interface SmsMessage {
  /** E.164, see config/phone.ts. */
  to: string;
  from: string;
  body: string;
  /**
   * The same on every attempt. Twilio's Messages API takes no idempotency key (its OpenAPI
   * description has none for Messages), so it is not sent: the send ledger is what keeps a
   * retry from sending twice.
   */
  idempotencyKey: string;
}

export interface SmsSender {
  send(message: SmsMessage): Promise<{ sid: string; status: string }>;
}

/** A failed send, with nothing of the SDK's request in it (an axios error carries the Authorization header). */
export class SmsSendError extends Error {
  override readonly name = 'SmsSendError';
  /** The HTTP status Twilio answered, when it answered. */
  readonly status?: number;
  /** Twilio's error code (21211, ...) or a network error's code (ECONNREFUSED, ...). */
  readonly code?: number | string;
  readonly permanent: boolean;

  constructor(err: unknown) {
    super(smsErrorReason(err));
    const { status, code } = errorFields(err);
    this.status = status;
    this.code = code;
    this.permanent = isPermanentSmsError(err);
  }
}

/**
 * The Twilio sender named by TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or undefined when neither
 * is set (SMS off). PIPEWRIGHT_TWILIO_API_URL, e.g. http://127.0.0.1:4010, replaces
 * https://api.twilio.com for tests and local runs.
 */
export function twilioSmsSender(env: NodeJS.ProcessEnv = process.env): SmsSender | undefined {
  const client = twilioClient(env);
  if (!client) return undefined;
  return {
    async send({ to, from, body }) {
      try {
        const message = await client.messages.create({ to, from, body });
        return { sid: message.sid, status: message.status };
      } catch (err) {
        throw new SmsSendError(err);
      }
    },
  };
}

/** The twilio SDK's client as twilioSmsSender configures it from `env`; undefined when SMS is off. */
export function twilioClient(env: NodeJS.ProcessEnv = process.env): twilio.Twilio | undefined {
  const accountSid = env.TWILIO_ACCOUNT_SID;
  const authToken = env.TWILIO_AUTH_TOKEN;
  if (!accountSid && !authToken) return undefined;
  if (!accountSid) throw new Error('TWILIO_AUTH_TOKEN is set but TWILIO_ACCOUNT_SID is not: set both, or neither to turn SMS off');
  if (!authToken) throw new Error('TWILIO_ACCOUNT_SID is set but TWILIO_AUTH_TOKEN is not: set both, or neither to turn SMS off');
  if (!accountSid.startsWith('AC')) throw new Error('TWILIO_ACCOUNT_SID must start with "AC" (the Account SID, not an API key)');

  const apiUrl = env.PIPEWRIGHT_TWILIO_API_URL;
  const httpClient = apiUrl ? new LocalApiClient(parseApiUrl(apiUrl)) : undefined;
  // No SDK retries (autoRetry is off by default): the activity's retry policy owns retrying.
  return twilio(accountSid, authToken, { httpClient, env });
}

/**
 * The SDK's own HTTP client, with each request's origin (https://api.twilio.com, or a regional
 * one) replaced by the base URL; path, query, headers, auth and form body are the SDK's.
 * `httpClient` is the SDK's supported hook for this (ClientOpts.httpClient).
 */
class LocalApiClient extends twilio.RequestClient {
  constructor(private readonly base: URL) {
    super({ keepAlive: false });
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const original = new URL(opts.uri);
    const uri = new URL(this.base.pathname.replace(/\/$/, '') + original.pathname + original.search, this.base);
    return super.request({ ...opts, uri: uri.href });
  }
}

function parseApiUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error('PIPEWRIGHT_TWILIO_API_URL is not a URL: expected a base URL such as http://127.0.0.1:4010');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`PIPEWRIGHT_TWILIO_API_URL has protocol "${url.protocol}": expected http: or https:`);
  }
  if (url.username || url.password) throw new Error('PIPEWRIGHT_TWILIO_API_URL must not carry credentials: use TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN');
  return url;
}

interface ErrorFields {
  status?: number;
  code?: number | string;
  message?: string;
  /** TwilioServiceException's (RFC 9457) explanation. */
  detail?: string;
}

/** The few fields of a Twilio RestException / TwilioServiceException, an axios network error, or an SmsSendError. */
function errorFields(err: unknown): ErrorFields {
  if (typeof err !== 'object' || err === null) return { message: err === undefined ? undefined : String(err) };
  const { status, code, message, detail } = err as Record<string, unknown>;
  return {
    status: typeof status === 'number' ? status : undefined,
    code: typeof code === 'number' || typeof code === 'string' ? code : undefined,
    message: typeof message === 'string' ? message : undefined,
    detail: typeof detail === 'string' ? detail : undefined,
  };
}

/** Statuses that are about the account or the moment, not the message: a retry can succeed. */
const TRANSIENT_4XX = new Set([401, 403, 408, 409, 429]);

/**
 * Twilio rejected this message for good: a 4xx about the request itself, such as 400 with 21211
 * (invalid To), 21610 (recipient replied STOP) or 21614 (not a mobile number), or a mock's 422.
 * Not permanent: 5xx, 429, network errors, and 401/403 (credentials or account: the operator's
 * fix makes the retry succeed, and the recipient is not to blame).
 */
export function isPermanentSmsError(err: unknown): boolean {
  if (err instanceof SmsSendError) return err.permanent;
  const { status } = errorFields(err);
  if (status === undefined) return false;
  return status >= 400 && status < 500 && !TRANSIENT_4XX.has(status);
}

/** One short line for the ledger and the journey: status, Twilio's code and message; never the request. */
export function smsErrorReason(err: unknown): string {
  if (err instanceof SmsSendError) return err.message;
  const { status, code, message, detail } = errorFields(err);
  let reason: string;
  if (status !== undefined) {
    reason = `Twilio answered HTTP ${status}`;
    if (code !== undefined && code !== 0) reason += ` (error ${code})`;
    // RestException's message is Twilio's own text; the SDK's own "[HTTP 4xx] ..." says nothing more.
    const text = message && !message.startsWith('[HTTP ') ? message : detail;
    if (text) reason += `: ${text}`;
  } else {
    const text = message ?? 'unknown error';
    reason = typeof code === 'string' && !text.includes(code) ? `${code}: ${text}` : text;
    reason = `SMS not sent: ${reason}`;
  }
  return reason.replace(/\s+/g, ' ').trim().slice(0, 300);
}

/** An SMS as the ledger's sendClaimed sends it: once per key, permanent errors told from passing ones. */
export function smsTransport(sms: SmsSender | undefined, message: { to: string; from?: string; body: string; key: string }): Transport {
  return {
    channel: 'sms',
    send: async () => {
      // Not a transient failure: without credentials no retry can send it, so the step fails at once.
      if (!sms) throw Object.assign(new Error('SMS is off: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN for the worker'), { permanent: true });
      if (!message.from) throw Object.assign(new Error('the config has no sms.from number'), { permanent: true });
      const sent = await sms.send({ to: message.to, from: message.from, body: message.body, idempotencyKey: message.key });
      return { response: `${sent.status} ${sent.sid}`, messageId: sent.sid };
    },
    isPermanent: (err) => (err as { permanent?: boolean }).permanent === true || isPermanentSmsError(err),
    reason: smsErrorReason,
  };
}
