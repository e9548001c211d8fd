// The HTTP intake: forms, CRMs and webhooks add leads and report events here (the private API,
// with an API key), and the List-Unsubscribe link of every marketing e-mail lands here (public,
// with a signed token).
import rateLimit from '@fastify/rate-limit';
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { linkKeys, verifyUnsubscribe, type UnsubscribeTarget } from '../activities/signedLinks';
import { parseOrThrow, ValidationError } from '../config/validation';
import type { Store } from '../store';
import { activeConfigCache, actor, type ActiveConfigCache } from './configVersions';
import { rateLimitsFromEnv, type RateLimits } from './rateLimits';
import { handleInboundSms, TWILIO_SIGNATURE_HEADER, twilioSignatureValid } from './twilioInbound';
import { SIGNATURE_HEADER, WebhookVerifier, webhookSecretsFromEnv } from './webhookSignature';
import { addLead, LeadRequestError, parseLead, resolveLead, sendLeadEvent, showLead, type AddedLead, type LeadRef } from './leads';
import type { Lead } from '../config/lead';
import type { VerifiedKey } from '../store/apiKeys';

export interface IntakeOptions {
  client: Client;
  store: Store;
  taskQueue: string;
  /**
   * New leads start on the store's active config version. It is cached, not read per request: re-read
   * at most every 5 s (so a `pipewright config apply` reaches new leads within 5 s, without a restart),
   * validated again only when the version changed. Default: such a cache over `store`.
   */
  config?: ActiveConfigCache;
  /** Applied as the first version when the store has none yet (default: PIPEWRIGHT_CONFIG, else the example). */
  configFile?: string;
  /** Where a server error's details go (the caller gets none of them). Default: standard error. */
  log?: (line: string) => void;
  /** Requests a minute per API key and per client address; default from the environment (rateLimits.ts). */
  rateLimits?: RateLimits;
  /**
   * Which routes this listener serves: `public` only what strangers need (the unsubscribe pages,
   * signed webhooks and inbound SMS), `private` only the API-key routes (leads, events, state), `both` all of them.
   */
  face?: IntakeFace;
  /** Inbound SMS are signed with it; default TWILIO_AUTH_TOKEN. Without it, /webhooks/twilio/sms refuses everything. */
  twilioAuthToken?: string;
  /** The intake's public base URL as Twilio calls it (its console's webhook URL less the path); default PIPEWRIGHT_PUBLIC_URL. */
  publicUrl?: string;
}

export type IntakeFace = 'public' | 'private' | 'both';

/** A body larger than this is refused (413) before it is read: a lead is a few hundred bytes. */
export const BODY_LIMIT_BYTES = 64 * 1024;
/** How long a request waits for Temporal before it answers 503: not the client's 20 s of retries. */
const TEMPORAL_DEADLINE_MS = 5_000;
const RETRY_AFTER_S = 5;

export function createIntake({
  client,
  store,
  taskQueue,
  config,
  configFile,
  log = console.error,
  rateLimits = rateLimitsFromEnv(),
  face = 'both',
  twilioAuthToken = process.env.TWILIO_AUTH_TOKEN,
  publicUrl = process.env.PIPEWRIGHT_PUBLIC_URL,
}: IntakeOptions): FastifyInstance {
  const active = config ?? activeConfigCache(store, { fallbackFile: configFile, by: actor('first lead through the intake') });
  // Refuses to start without the keys the unsubscribe links are signed with (PIPEWRIGHT_LINK_SECRETS).
  linkKeys();
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT_BYTES });
  // RFC 8058 one-click unsubscribes arrive as a form post (urlencoded or multipart) whose body we do not need.
  for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data']) {
    app.addContentTypeParser(type, { parseAs: 'string' }, (_req, _body, done) => done(null, {}));
  }
  const temporal = <T>(call: () => Promise<T>): Promise<T> => client.connection.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, call);

  // A 4xx names the field and what was expected; a 5xx tells the caller nothing of the inside, the log everything.
  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ValidationError) return reply.status(400).send({ error: `${err.subject} is not valid`, problems: err.problems });
    if (err instanceof LeadRequestError) return reply.status(err.status).send({ error: err.message });
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status < 500) return reply.status(status).send({ error: (err as Error).message });
    if (temporalUnavailable(err)) {
      log(`intake: ${req.method} ${req.routeOptions.url ?? req.url}: Temporal is unavailable: ${(err as Error).message}`);
      return reply.status(503).header('Retry-After', String(RETRY_AFTER_S)).send({ error: 'the service is unavailable for a moment; try again shortly' });
    }
    log(`intake: ${req.method} ${req.routeOptions.url ?? req.url}: ${(err as Error).stack ?? String(err)}`);
    return reply.status(500).send({ error: 'internal error; it has been logged' });
  });

  // The private API (leads, events, state) answers only requests with a live API key, checked
  // before the body is read. One answer for a missing, malformed, unknown or revoked key.
  const keyOf = new WeakMap<FastifyRequest, VerifiedKey>();
  const webhooks = new WebhookVerifier(webhookSecretsFromEnv());
  const privateApi = {
    onRequest: async (req: FastifyRequest, reply: FastifyReply) => {
      const key = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      const verified = key ? await store.verifyApiKey(key) : undefined;
      // A site key is public (it is in a web page): it opens the lead form and nothing else.
      if (verified && !verified.origins) return void keyOf.set(req, verified);
      return reply
        .status(401)
        .header('WWW-Authenticate', 'Bearer')
        .send({ error: 'unauthorized: send a live API key as "Authorization: Bearer KEY" (`pipewright apikey create`)' });
    },
  };

  // Counted after the key is checked, so a request counts against the key it proved it holds;
  // the public face counts per client address.
  void app.register(rateLimit, {
    global: true,
    hook: 'preHandler',
    timeWindow: '1 minute',
    // A site key is public, so a form post counts against its client's address like any stranger's.
    keyGenerator: (req) => (keyOf.has(req) && !keyOf.get(req)!.origins ? `key:${keyOf.get(req)!.id}` : `ip:${req.ip}`),
    max: (_req, key) => (key.startsWith('key:') ? rateLimits.perKey : rateLimits.perIp),
    errorResponseBuilder: (_req, context) => ({ statusCode: 429, message: `too many requests: at most ${context.max} a minute; try again in ${context.after}` }),
  });

  // In a plugin of their own, so the rate limiter is loaded before they are declared.
  const serves = (which: 'public' | 'private') => face === 'both' || face === which;
  void app.register(async (routes) => {
    if (serves('private')) registerPrivateRoutes(routes);
    if (serves('public')) registerPublicRoutes(routes);
  });

  /** Starts a valid lead's journey on the active config, within the key's daily cap. */
  async function startJourney({ id, dailyCap }: VerifiedKey, lead: Lead): Promise<AddedLead> {
    // A config that cannot be used is the server's problem, not the lead's: a 500, not a 400.
    const { config: current, version } = await active.get().catch((err: Error) => {
      throw new Error(`the active config cannot be used: ${err.message}`);
    });
    // A key with a daily cap takes one of the day's journeys first, and gives it back if none starts.
    const day = new Date().toISOString().slice(0, 10);
    if (dailyCap !== undefined && !(await store.takeDailyJourney(id, day, dailyCap))) {
      throw new LeadRequestError(`daily cap reached: this key may start ${dailyCap} new journeys a day (UTC)`, 429);
    }
    const release = () => (dailyCap === undefined ? undefined : store.releaseDailyJourney(id, day));
    const added = await temporal(() => addLead(client, store, taskQueue, current, lead, version)).catch(async (err: unknown) => {
      await release();
      throw err;
    });
    if (!added.started) await release();
    return added;
  }

  function registerPrivateRoutes(routes: FastifyInstance): void {
    routes.post('/leads', privateApi, async (req, reply) => {
      const added = await startJourney(keyOf.get(req)!, parseLead(req.body, 'lead'));
      return reply.status(added.started ? 201 : 200).send(added);
    });

    // A lead is named by its journey ID or by its address, each on a route of its own: never guessed.
    routes.get<{ Params: { id: string } }>('/leads/:id', privateApi, async (req) => temporal(() => showLead(client, { id: req.params.id })));
    routes.get<{ Params: { email: string } }>('/leads/by-email/:email', privateApi, async (req) => temporal(() => showLead(client, { email: req.params.email })));

    // The body, when there is one, carries the event's detail: who touched, on which channel, BANT...
    const event = async (ref: LeadRef, name: string, body: unknown, reply: FastifyReply) => {
      const { delivered } = await temporal(() => sendLeadEvent(client, store, ref, name, 'api', body ?? {}));
      return reply.status(202).send({ event: name, to: resolveLead(ref).journeyId, delivered });
    };
    routes.post<{ Params: { id: string; event: string } }>('/leads/:id/events/:event', privateApi, async (req, reply) => event({ id: req.params.id }, req.params.event, req.body, reply));
    routes.post<{ Params: { email: string; event: string } }>('/leads/by-email/:email/events/:event', privateApi, async (req, reply) =>
      event({ email: req.params.email }, req.params.event, req.body, reply),
    );
  }

  function registerPublicRoutes(routes: FastifyInstance): void {
    // A GET only shows a button: mail scanners open links, and must not unsubscribe anyone.
    routes.get<{ Querystring: Record<string, unknown> }>('/unsubscribe', async (req, reply) => {
      const target = unsubscribeTarget(req.query.lead);
      if ('refused' in target) return refuse(reply, target.refused);
      return reply
        .type('text/html')
        .send(page('Unsubscribe', `<form method="post"><p>Stop all e-mail to ${escape(target.email)}?</p><button type="submit">Unsubscribe</button></form>`));
    });

    routes.post<{ Querystring: Record<string, unknown> }>('/unsubscribe', async (req, reply) => {
      const target = unsubscribeTarget(req.query.lead);
      if ('refused' in target) return refuse(reply, target.refused);
      // The suppression is what every send checks, so it is stored first and alone makes the answer:
      // twice, after the journey ended, or while Temporal is away, the person asking is unsubscribed.
      await store.suppress({ email: target.email, channel: 'all', reason: 'unsubscribed', source: 'link' });
      await temporal(() => sendLeadEvent(client, store, { id: target.journeyId }, 'unsubscribed', 'link')).catch((err: unknown) => {
        // The journey stops at its next send anyway (the store says suppressed); stopping it now is a courtesy.
        log(`intake: unsubscribe of ${target.journeyId} stored; the journey was not told: ${(err as Error).message}`);
      });
      return reply.type('text/html').send(page('Unsubscribed', `<p>${escape(target.email)} will get no more e-mail from us.</p>`));
    });

    // CRMs that sign instead of holding a key (webhookSignature.ts): the signature is over the raw
    // body, so this scope keeps it, and checks it before the rate limiter counts the request.
    void routes.register(async (signed) => {
      signed.removeContentTypeParser('application/json');
      signed.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, raw, done) => {
        try {
          done(null, { raw, json: JSON.parse((raw as Buffer).toString('utf8')) as unknown });
        } catch {
          done(new LeadRequestError('body: expected JSON', 400));
        }
      });
      signed.post('/webhooks/events', {
        preValidation: async (req, reply) => {
          const raw = (req.body as { raw?: Buffer } | undefined)?.raw ?? Buffer.alloc(0);
          const refused = webhooks.refusal(req.headers[SIGNATURE_HEADER], raw);
          if (!refused) return void keyOf.set(req, { id: 'webhook', name: 'signed webhooks' });
          log(`intake: webhook refused: ${refused}`);
          return reply.status(401).send({ error: `unauthorized: sign the raw body as described for the ${SIGNATURE_HEADER} header` });
        },
        handler: async (req, reply) => {
          const { id, email, event, detail } = parseOrThrow(WebhookEventSchema, (req.body as { json: unknown }).json, 'webhook');
          const ref: LeadRef = id !== undefined ? { id } : { email: email! };
          const { delivered } = await temporal(() => sendLeadEvent(client, store, ref, event, 'webhook', detail ?? {}));
          return reply.status(202).send({ event, to: resolveLead(ref).journeyId, delivered });
        },
      });
    });

    // Twilio posts each SMS texted to our number as a form, signed over the URL and its parameters.
    void routes.register(async (twilioScope) => {
      readFormFields(twilioScope);
      twilioScope.post('/webhooks/twilio/sms', {
        preValidation: async (req, reply) => {
          const url = `${publicUrl ? publicUrl.replace(/\/+$/, '') : `${req.protocol}://${req.host}`}${req.url}`;
          const params = typeof req.body === 'object' && req.body ? (req.body as Record<string, string>) : {};
          if (twilioSignatureValid(twilioAuthToken, req.headers[TWILIO_SIGNATURE_HEADER], url, params)) return void keyOf.set(req, { id: 'twilio', name: 'Twilio' });
          log(`intake: Twilio webhook refused: ${twilioAuthToken ? `no valid ${TWILIO_SIGNATURE_HEADER} for ${url}` : 'TWILIO_AUTH_TOKEN is not set'}`);
          return reply.status(403).send({ error: `forbidden: only Twilio, signing with the account's auth token (${TWILIO_SIGNATURE_HEADER}), may post here` });
        },
        handler: async (req, reply) => {
          const outcome = await temporal(() => handleInboundSms(client, store, req.body as Record<string, string>, log));
          if (outcome.kind === 'ignored') log(`intake: inbound SMS ignored: ${outcome.why}`);
          // An empty TwiML answer: Twilio itself confirms STOP and START to the sender.
          return reply.type('text/xml').send('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
        },
      });
    });

    // The lead form of your web site: its first e-mail goes out at once, so only a page of an origin
    // the site key names may post it (the key is public: it is in the page), and each client
    // address is rate-limited as on every public route.
    void routes.register(async (forms) => {
      readFormFields(forms);
      const allowed = new WeakMap<FastifyRequest, string>();
      // The browser's preflight for a JSON post carries no key: it is answered for any origin, and
      // the post itself is checked.
      forms.options('/forms/leads', async (req, reply) =>
        reply
          .status(204)
          .header('Access-Control-Allow-Origin', req.headers.origin ?? '*')
          .header('Access-Control-Allow-Methods', 'POST')
          .header('Access-Control-Allow-Headers', `content-type, ${SITE_KEY_HEADER}`)
          .header('Access-Control-Max-Age', '600')
          .header('Vary', 'Origin')
          .send(),
      );
      forms.post('/forms/leads', {
        preValidation: async (req, reply) => {
          const body = (typeof req.body === 'object' && req.body) || {};
          const presented = req.headers[SITE_KEY_HEADER] ?? (body as Record<string, unknown>).siteKey;
          const key = typeof presented === 'string' ? await store.verifyApiKey(presented) : undefined;
          const origin = originOf(req);
          if (!key?.origins) return reply.status(401).send({ error: `unauthorized: send the site key of this form (${SITE_KEY_HEADER} header or siteKey field; \`pipewright apikey create --site-origin ORIGIN\`)` });
          if (!origin || !key.origins.includes(origin)) return reply.status(403).send({ error: 'forbidden: this site key is not for the page that posted the form' });
          allowed.set(req, origin);
          keyOf.set(req, key);
        },
        handler: async (req, reply) => {
          reply.header('Access-Control-Allow-Origin', allowed.get(req)!).header('Vary', 'Origin');
          const { siteKey: _key, ...fields } = req.body as Record<string, unknown>;
          await startJourney(keyOf.get(req)!, parseLead(formLead(fields), 'lead'));
          // One answer whether or not the address already had a journey: a stranger learns nothing of who is a lead.
          if (!req.headers.accept?.includes('text/html')) return reply.status(202).send({ accepted: true });
          return reply.status(202).type('text/html').send(page('Thank you', '<p>Thank you: we will be in touch shortly.</p>'));
        },
      });
    });
  }

  return app;
}

/** What a signed webhook carries: the lead (its journey `id` or its `email`, one of them), the event, and its detail as the events API takes it. */
const WebhookEventSchema = z
  .strictObject({
    id: z.string().min(1).max(300).optional(),
    email: z.string().min(1).max(254).optional(),
    event: z.string().min(1).max(50),
    detail: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((body) => (body.id === undefined) !== (body.email === undefined), { error: 'expected exactly one of id (the journey ID) or email (the lead\'s address)', path: ['id'] });

/** The `lead` parameter of an unsubscribe link: one signed token (signedLinks.ts). */
function unsubscribeTarget(lead: unknown): UnsubscribeTarget | { refused: string } {
  if (lead === undefined || lead === '') return { refused: 'lead: required (expected the token from the unsubscribe link)' };
  if (typeof lead !== 'string') return { refused: 'lead: expected one value (the token from the unsubscribe link)' };
  return verifyUnsubscribe(lead);
}

/** Temporal did not answer within the deadline, or cannot be reached: worth a retry, not a 500. */
function temporalUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    // gRPC's DEADLINE_EXCEEDED and UNAVAILABLE.
    if (e.code === 4 || e.code === 14) return true;
  }
  return false;
}

/** A link that cannot be used: 400, and a page saying why. */
const refuse = (reply: FastifyReply, why: string) => reply.status(400).type('text/html').send(page('Unsubscribe', `<p>${why}.</p>`));

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;
}

/** The header (or form field `siteKey`) a web page's lead form carries its site key in. */
export const SITE_KEY_HEADER = 'pipewright-site-key';

/** A form post's fields as strings (the last of a repeated one), in a scope that needs them: the unsubscribe routes do not. */
function readFormFields(scope: FastifyInstance): void {
  scope.removeContentTypeParser('application/x-www-form-urlencoded');
  scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));
}

/** The page's origin, as the browser states it: Origin, else the Referer's. */
function originOf(req: FastifyRequest): string | undefined {
  const stated = req.headers.origin ?? req.headers.referer;
  if (typeof stated !== 'string') return undefined;
  try {
    return new URL(stated).origin;
  } catch {
    return undefined;
  }
}

/**
 * A web form's fields as a lead: every one arrives as text, the number of employees too, and a lead
 * from your own site is inbound whatever the form says. Empty fields are fields not given.
 */
function formLead(fields: Record<string, unknown>): Record<string, unknown> {
  const given = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== ''));
  const employees = typeof given.employees === 'string' && /^\d[\d,]*$/.test(given.employees.trim()) ? Number(given.employees.replace(/,/g, '')) : given.employees;
  return { ...given, ...(employees !== undefined && { employees }), source: 'inbound' };
}
