// The HTTP intake: forms, CRMs and webhooks add leads and report events here, and the
// List-Unsubscribe link of every marketing e-mail lands here.
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance } from 'fastify';
import { ValidationError } from '../config/validation';
import type { Store } from '../store';
import { activeConfigCache, actor, type ActiveConfigCache } from './configVersions';
import { addLead, LeadRequestError, parseLead, sendLeadEvent, showLead } from './leads';

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
}

export function createIntake({ client, store, taskQueue, config, configFile }: IntakeOptions): FastifyInstance {
  const active = config ?? activeConfigCache(store, { fallbackFile: configFile, by: actor('first lead through the intake') });
  const app = Fastify({ logger: false });
  // RFC 8058 one-click unsubscribes arrive as a form post whose body we do not need.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof ValidationError) return reply.status(400).send({ error: `${err.subject} is not valid`, problems: err.problems });
    if (err instanceof LeadRequestError) return reply.status(err.status).send({ error: err.message });
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status < 500) return reply.status(status).send({ error: (err as Error).message });
    return reply.status(500).send({ error: (err as Error).message });
  });

  app.post('/leads', async (req, reply) => {
    const lead = parseLead(req.body, 'lead');
    // A config that cannot be used is the server's problem, not the lead's: a 500, not a 400.
    const { config: current, version } = await active.get().catch((err: Error) => {
      throw new Error(`the active config cannot be used: ${err.message}`);
    });
    const added = await addLead(client, store, taskQueue, current, lead, version);
    return reply.status(added.started ? 201 : 200).send(added);
  });

  app.get<{ Params: { id: string } }>('/leads/:id', async (req) => showLead(client, req.params.id));

  // The body, when there is one, carries the event's detail: who touched, on which channel, BANT...
  app.post<{ Params: { id: string; event: string } }>('/leads/:id/events/:event', async (req, reply) => {
    const { delivered } = await sendLeadEvent(client, store, req.params.id, req.params.event, 'api', req.body ?? {});
    return reply.status(202).send({ event: req.params.event, to: req.params.id, delivered });
  });

  // A GET only shows a button: mail scanners open links, and must not unsubscribe anyone.
  app.get<{ Querystring: { lead?: string } }>('/unsubscribe', async (req, reply) => {
    const lead = requireLead(req.query.lead);
    return reply
      .type('text/html')
      .send(page('Unsubscribe', `<form method="post"><p>Stop all e-mail to this address?</p><button type="submit">Unsubscribe</button></form>`, lead));
  });

  app.post<{ Querystring: { lead?: string } }>('/unsubscribe', async (req, reply) => {
    const lead = requireLead(req.query.lead);
    // The suppression is stored whether or not the journey still runs: twice, or after the cadence
    // ended, is still a success for the person asking.
    await sendLeadEvent(client, store, lead, 'unsubscribed', 'link');
    return reply.type('text/html').send(page('Unsubscribed', '<p>You will get no more e-mail from us.</p>', lead));
  });

  return app;
}

function requireLead(lead: string | undefined): string {
  if (!lead) throw new LeadRequestError('lead: required (expected the lead ID from the unsubscribe link)', 400);
  return lead;
}

function page(title: string, body: string, lead: string): string {
  const escaped = lead.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${escaped}</p>${body}</body></html>`;
}
