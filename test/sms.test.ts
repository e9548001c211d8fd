// SMS through the real twilio SDK, against a local stand-in for Twilio that checks every request
// against Twilio's own OpenAPI description (Prism, test/support/twilioMock.ts).
import twilio from 'twilio';
import { createServer } from 'node:net';
import { isPermanentSmsError, smsErrorReason, SmsSendError, twilioClient, twilioSmsSender } from '../activities/sms';
import { normalisePhone, PhoneSchema } from '../config/phone';
import { startTwilioMock, type TwilioMock } from './support/twilioMock';

const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH_TOKEN = 'test-auth-token-not-a-secret-0042';
const FROM = '+14155550100';

describe('SMS through the twilio SDK', () => {
  let mock: TwilioMock;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    mock = await startTwilioMock();
    env = { TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, PIPEWRIGHT_TWILIO_API_URL: mock.url };
  }, 90_000);

  afterAll(async () => {
    await mock?.stop();
  });

  test('a valid message reaches the endpoint as the SDK built it, and its sid comes back', async () => {
    const sender = twilioSmsSender(env)!;
    const before = mock.requests().length;

    const result = await sender.send({ to: '+821012345678', from: FROM, body: 'Hi Dana, 10 minutes today?', idempotencyKey: 'lead-1/sms-1' });

    expect(result.sid).toMatch(/^SM[0-9a-f]{32}$/i);
    expect(result.status).toBe('queued');
    const sent = mock.requests().slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      method: 'POST',
      path: `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`,
      form: { To: '+821012345678', From: FROM, Body: 'Hi Dana, 10 minutes today?' },
      status: 201,
    });
  });

  test('a request that breaks Twilio\'s API description is rejected, and that is permanent', async () => {
    const client = twilioClient(env)!;
    const before = mock.requests().length;

    // StatusCallback must be a URI: the SDK sends whatever it is given, the API refuses it.
    const error = await client.messages
      .create({ to: '+14155550123', from: FROM, body: 'hello', statusCallback: 'not a url' })
      .then(() => undefined, (err: unknown) => err);

    expect(error).toBeInstanceOf(twilio.RestException);
    expect((error as InstanceType<typeof twilio.RestException>).status).toBe(422);
    expect(isPermanentSmsError(error)).toBe(true);
    expect(smsErrorReason(error)).toBe('Twilio answered HTTP 422');
    const [rejected] = mock.requests().slice(before);
    expect(rejected).toMatchObject({ status: 422, form: { To: '+14155550123', StatusCallback: 'not a url' } });
    expect(JSON.parse(rejected!.responseBody).validation).toEqual(
      expect.arrayContaining([expect.objectContaining({ location: ['body', 'StatusCallback'], code: 'format' })]),
    );
  });

  test('a missing To is refused by the SDK itself: nothing reaches Twilio', () => {
    const client = twilioClient(env)!;
    const before = mock.requests().length;
    expect(() => client.messages.create({ to: undefined as unknown as string, from: FROM, body: 'x' })).toThrow(/'to'.*missing/);
    expect(mock.requests().length).toBe(before);
  });

  test('a network failure is transient, and its reason names no secret', async () => {
    const sender = twilioSmsSender({ ...env, PIPEWRIGHT_TWILIO_API_URL: `http://127.0.0.1:${await closedPort()}` })!;

    const error = await sender.send({ to: '+14155550123', from: FROM, body: 'hi', idempotencyKey: 'k' }).then(() => undefined, (err: unknown) => err);

    expect(error).toBeInstanceOf(SmsSendError);
    expect(isPermanentSmsError(error)).toBe(false);
    const reason = smsErrorReason(error);
    expect(reason).toMatch(/ECONNREFUSED/);
    expect(reason).not.toContain('\n');
    const everything = JSON.stringify(error, Object.getOwnPropertyNames(error)) + String((error as Error).stack);
    expect(everything).not.toContain(AUTH_TOKEN);
    expect(everything).not.toContain(Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64'));
  });
});

describe('Twilio error classification', () => {
  // Twilio's answers as the SDK turns them into errors (RestException parses Twilio's JSON body).
  const answer = (statusCode: number, body: object = {}) => new twilio.RestException({ statusCode, body: JSON.stringify(body) });

  test.each([
    [400, 21211, "The 'To' number +1415 is not a valid phone number."],
    [400, 21610, 'Attempt to send to unsubscribed recipient'],
    [400, 21614, "'To' number is not a valid mobile number"],
  ])('HTTP %i with error %i is permanent', (status, code, message) => {
    const error = answer(status, { status, code, message, more_info: `https://www.twilio.com/docs/errors/${code}` });
    expect(isPermanentSmsError(error)).toBe(true);
    expect(smsErrorReason(error)).toBe(`Twilio answered HTTP ${status} (error ${code}): ${message}`);
  });

  test.each([500, 503, 429, 401])('HTTP %i is transient', (status) => {
    expect(isPermanentSmsError(answer(status, { status, code: 20000 + status, message: 'try later' }))).toBe(false);
  });

  test('an SmsSendError keeps the classification of what it wraps', () => {
    expect(isPermanentSmsError(new SmsSendError(answer(400, { status: 400, code: 21211, message: 'bad' })))).toBe(true);
    expect(isPermanentSmsError(new SmsSendError(answer(503)))).toBe(false);
  });

  test('no credentials, no sender; half of them is a mistake worth saying', () => {
    expect(twilioSmsSender({})).toBeUndefined();
    expect(() => twilioSmsSender({ TWILIO_ACCOUNT_SID: ACCOUNT_SID })).toThrow(/TWILIO_AUTH_TOKEN/);
    expect(() => twilioSmsSender({ TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, PIPEWRIGHT_TWILIO_API_URL: 'nope' })).toThrow(
      /PIPEWRIGHT_TWILIO_API_URL is not a URL/,
    );
  });
});

describe('normalisePhone', () => {
  test('international numbers come out in E.164', () => {
    expect(normalisePhone('+1 (415) 555-0123')).toEqual({ e164: '+14155550123' });
    expect(normalisePhone('+82 10-1234-5678')).toEqual({ e164: '+821012345678' });
  });

  test('a national number needs its country', () => {
    expect(normalisePhone('010-1234-5678', 'KR')).toEqual({ e164: '+821012345678' });
    expect(normalisePhone('(415) 555-0123', 'US')).toEqual({ e164: '+14155550123' });
    expect(normalisePhone('(415) 555-0123')).toEqual({
      error: '"(415) 555-0123" has no country code: expected a phone number in E.164 form such as "+14155550123"',
    });
  });

  test('garbage and impossible numbers are rejected with a message a marketer can act on', () => {
    expect(normalisePhone('call me maybe')).toEqual({
      error: '"call me maybe" is not a phone number: expected a phone number in E.164 form such as "+14155550123"',
    });
    // Area code 123 does not exist: the right length, but not a number.
    expect(normalisePhone('+1 123 456 7890')).toEqual({
      error: '"+1 123 456 7890" is not a valid phone number: expected a phone number in E.164 form such as "+14155550123"',
    });
    expect(normalisePhone('555-0123', 'XX')).toEqual({ error: 'unknown country "XX": expected an ISO code such as "US" or "KR"' });
  });

  test('PhoneSchema outputs E.164 and reports the same message', () => {
    expect(PhoneSchema.parse(' +82 2-312-3456 ')).toBe('+8223123456');
    const result = PhoneSchema.safeParse('12');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/expected a phone number in E\.164 form such as "\+14155550123"/);
  });
});

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
