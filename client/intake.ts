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
import { SIGNATURE_HEADER, WebhookVerifier, webhookSecretsFromEnv } from './webhookSignature';
import { addLead, LeadRequestError, parseLead, resolveLead, sendLeadEvent, showLead, type LeadRef } from './leads';

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
   * Which routes this listener serves: `public` only what strangers need (the unsubscribe pages and
   * signed webhooks), `private` only the API-key routes (leads, events, state), `both` all of them.
   */
  face?: IntakeFace;
}

export type IntakeFace = 'public' | 'private' | 'both';

/** A body larger than this is refused (413) before it is read: a lead is a few hundred bytes. */
export const BODY_LIMIT_BYTES = 64 * 1024;
/** How long a request waits for Temporal before it answers 503: not the client's 20 s of retries. */
const TEMPORAL_DEADLINE_MS = 5_000;
const RETRY_AFTER_S = 5;

export function createIntake({ client, store, taskQueue, config, configFile, log = console.error, rateLimits = rateLimitsFromEnv(), face = 'both' }: IntakeOptions): FastifyInstance {
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
  const keyOf = new WeakMap<FastifyRequest, { id: string; dailyCap?: number }>();
  const webhooks = new WebhookVerifier(webhookSecretsFromEnv());
  const privateApi = {
    onRequest: async (req: FastifyRequest, reply: FastifyReply) => {
      const key = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      const verified = key ? await store.verifyApiKey(key) : undefined;
      if (verified) return void keyOf.set(req, verified);
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
    keyGenerator: (req) => (keyOf.has(req) ? `key:${keyOf.get(req)!.id}` : `ip:${req.ip}`),
    max: (_req, key) => (key.startsWith('key:') ? rateLimits.perKey : rateLimits.perIp),
    errorResponseBuilder: (_req, context) => ({ statusCode: 429, message: `too many requests: at most ${context.max} a minute; try again in ${context.after}` }),
  });

  // In a plugin of their own, so the rate limiter is loaded before they are declared.
  const serves = (which: 'public' | 'private') => face === 'both' || face === which;
  void app.register(async (routes) => {
    if (serves('private')) registerPrivateRoutes(routes);
    if (serves('public')) registerPublicRoutes(routes);
  });

  function registerPrivateRoutes(routes: FastifyInstance): void {
    routes.post('/leads', privateApi, async (req, reply) => {
      const lead = parseLead(req.body, 'lead');
      // A config that cannot be used is the server's problem, not the lead's: a 500, not a 400.
      const { config: current, version } = await active.get().catch((err: Error) => {
        throw new Error(`the active config cannot be used: ${err.message}`);
      });
      // A key with a daily cap takes one of the day's journeys first, and gives it back if none starts.
      const { id, dailyCap } = keyOf.get(req)!;
      const day = new Date().toISOString().slice(0, 10);
      if (dailyCap !== undefined && !(await store.takeDailyJourney(id, day, dailyCap))) {
        throw new LeadRequestError(`daily cap reached: this API key may start ${dailyCap} new journeys a day (UTC)`, 429);
      }
      const release = () => (dailyCap === undefined ? undefined : store.releaseDailyJourney(id, day));
      const added = await temporal(() => addLead(client, store, taskQueue, current, lead, version)).catch(async (err: unknown) => {
        await release();
        throw err;
      });
      if (!added.started) await release();
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
          if (!refused) return void keyOf.set(req, { id: 'webhook' });
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
