// One outbound target account's program: its tier's cadence for each of its key contacts, started a
// little apart, run side by side by the cadence engine. A reply or a booked meeting from anyone at
// the account stops it for everyone and hands the account to its BDR; an unsubscribe stops only
// that person. Months-long programs continue as new between steps so the history stays bounded.
import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { durationMs } from '../config/duration';
import { leadJourneyId } from '../config/vocabulary';
import type { TeamMember } from '../config/schema';
import { finish, runCadence, sleeper, type CadenceHost } from './cadence/engine';
import { applyMigration, migrationAnswer } from './cadence/migration';
import { startRun } from './cadence/run';
import { historyTooLong, MESSAGE_DELIVERY, STORE_CALL } from './history';
import { Journal } from './journal';
import {
  contactEventSignal,
  migrateCadenceUpdate,
  programStateQuery,
  repAssignedSignal,
  type CadenceMigration,
  type ContactEvent,
  type ProgramContact,
  type ProgramInput,
  type ProgramState,
} from './messages';
import { countryFor, timeZoneFor } from './rules/sendWindow';
import { memberByEmail, membersWithRole } from './rules/team';
import { tierFor } from './rules/tier';

const { deliverTask } = proxyActivities<Activities>(MESSAGE_DELIVERY);
const { requestRep, suppressContact } = proxyActivities<Activities>(STORE_CALL);

const iso = (ms: number) => new Date(ms).toISOString();
const KEEP = 50;
const HANDS_UP = ['replied', 'meeting-booked'];

export async function accountProgram(input: ProgramInput): Promise<ProgramState> {
  const { account, config } = input;
  const info = workflowInfo();
  const programId = info.workflowId;
  const now = () => iso(Date.now());
  const tiers = config.tiers;
  if (!tiers) throw new Error('the config has no tiers section: account programs need tiers.programs');
  const journal = new Journal(programId, info.runId);
  let assignedRep: string | undefined;
  let migration: CadenceMigration | undefined;

  const state: ProgramState = input.resume ?? startProgram();
  function startProgram(): ProgramState {
    const { tier, why } = tierFor(account, tiers!.rules);
    const program = tiers!.programs[tier];
    const stagger = durationMs(program.stagger);
    return {
      programId,
      domain: account.domain,
      name: account.name,
      tier,
      tierReason: why,
      stage: 'assigning',
      contacts: account.contacts.slice(0, program.contacts).map((c, i) => ({
        email: c.email,
        name: [c.firstName, c.lastName].filter(Boolean).join(' '),
        run: startRun(program.cadence, Date.now() + i * stagger, input.configVersion),
        sends: [],
        tasks: [],
        events: [],
      })),
      continuedAsNew: 0,
      ...(config.sending.sandbox ? { sandbox: true as const } : {}),
    };
  }

  const contactOf = (email: string) => state.contacts.find((c) => c.email.toLowerCase() === email.trim().toLowerCase());
  setHandler(programStateQuery, () => state);
  setHandler(repAssignedSignal, ({ rep }) => {
    assignedRep ??= rep;
  });
  setHandler(contactEventSignal, (event: ContactEvent) => {
    const contact = contactOf(event.contact);
    if (!contact || state.stage === 'ended') return;
    contact.events = [...contact.events, { type: event.type, at: now(), channel: event.channel, outcome: event.outcome }].slice(-KEEP);
    journal.add(event.type, { ...event, contact: contact.email });
    const run = contact.run;
    if (event.type === 'touched') {
      const task = contact.tasks.find((t) => t.status === 'open' && (!event.channel || t.channel === event.channel));
      if (task) Object.assign(task, { status: 'done', doneAt: now(), outcome: event.outcome });
    } else if (HANDS_UP.includes(event.type)) {
      state.handover ??= { contact: contact.email, event: event.type, at: now() };
    } else if (event.type === 'unsubscribed' || event.type === 'disqualified') {
      if (run.status !== 'done') finish(run, event.type);
      contact.stopped = event.type;
    } else if (event.type === 'paused' && run.status === 'running') {
      Object.assign(run, { status: 'paused', pausedUntil: event.until });
    } else if (event.type === 'resumed' && run.status === 'paused') {
      run.status = 'running';
    }
  });
  setHandler(migrateCadenceUpdate, (request) => {
    const answers = state.contacts.map((c) => migrationAnswer(c.run, request, config));
    const moved = answers.filter((a) => a.moved).length;
    if (moved) migration = request;
    return { moved: moved > 0, detail: moved ? `${moved} contact(s) ${answers.find((a) => a.moved)!.detail}` : answers[0]?.detail ?? 'no contacts' };
  });

  const housekeeping = () => journal.flush();
  const stopAll = () => state.handover !== undefined || migration !== undefined || historyTooLong();

  function hostFor(contact: ProgramContact, index: number): CadenceHost {
    const person = account.contacts.find((c) => c.email === contact.email)!;
    const where = { timezone: person.timezone, country: person.country ?? account.country, region: account.region };
    return {
      config,
      journeyId: programId,
      person: { email: person.email, phone: person.phone, timezone: timeZoneFor(where, config.sending.timezone), country: countryFor(where) },
      context: {
        contact: { ...person, company: account.name },
        lead: { ...person, company: account.name, industry: account.industry, region: account.region },
        account: { name: account.name, domain: account.domain, tier: state.tier, industry: account.industry, region: account.region, employees: account.employees, country: account.country, fields: account.fields },
        owner: state.owner,
        sender: config.sender,
      },
      unsubscribeId: leadJourneyId(person),
      rotationOffset: index,
      sendKey: (what) => `${programId}/${info.firstExecutionRunId}/${person.email.toLowerCase()}/${what}`,
      sleepUntil: sleeper({ stop: () => stopAll() || contact.stopped !== undefined, housekeeping, busy: () => journal.hasPending }),
      seen: (type, since) => contact.events.some((e) => e.type === type && Date.parse(e.at) >= since),
      taskOwner: () => owner(),
      onTouch: (touch) => {
        contact.sends = [...contact.sends, touch].slice(-KEEP);
      },
      onTask: (task) => {
        contact.tasks = [...contact.tasks, task].slice(-KEEP);
      },
    };
  }

  function owner(): TeamMember {
    return memberByEmail(config, state.owner!.email);
  }

  // The account's BDR: the one the account list names, else the next BDR in turn.
  if (state.stage === 'assigning') {
    const named = account.owner && config.team.find((m) => m.email.toLowerCase() === account.owner!.toLowerCase());
    if (!named) {
      await requestRep({ role: 'bdr', reps: membersWithRole(config, 'bdr').map((m) => m.email), leadId: programId });
      await condition(() => assignedRep !== undefined);
    }
    const rep = named || memberByEmail(config, assignedRep!);
    state.owner = { name: rep.name, email: rep.email };
    state.stage = 'running';
    journal.add('assigned', { owner: rep.email, tier: state.tier, tierReason: state.tierReason });
  }

  while (state.stage === 'running') {
    const active = state.contacts.map((c, i) => [c, i] as const).filter(([c]) => c.run.status !== 'done');
    if (active.length === 0 || state.handover) break;
    await Promise.all(active.map(([c, i]) => runCadence(hostFor(c, i), c.run)));
    if (migration) {
      for (const c of state.contacts) if (migrationAnswer(c.run, migration, config).moved) journal.add('migrated', { contact: c.email, ...applyMigration(c.run, migration, config) });
      migration = undefined;
      continue;
    }
    if (!state.handover && historyTooLong() && state.contacts.some((c) => c.run.status !== 'done')) {
      await housekeeping();
      await continueAsNew<typeof accountProgram>({ ...input, resume: { ...state, continuedAsNew: state.continuedAsNew + 1 } });
    }
  }

  if (state.handover) await handOver();
  for (const c of state.contacts) {
    if (c.stopped === 'unsubscribed') await suppressContact({ email: c.email, channel: 'all', reason: 'unsubscribed', source: 'journey' });
  }
  state.stage = 'ended';
  state.outcome = state.handover ? 'handed-over' : 'completed';
  journal.add('ended', { outcome: state.outcome });
  await housekeeping();
  return state;

  /** Everyone's cadence stops; the BDR gets the account with who answered, as a task and a notice. */
  async function handOver(): Promise<void> {
    const { contact, event } = state.handover!;
    for (const c of state.contacts) if (c.run.status !== 'done') finish(c.run, `handed-over: ${event} from ${contact}`);
    const who = contactOf(contact)!;
    const rep = owner();
    const key = `${programId}/${info.firstExecutionRunId}/handover`;
    const note = [
      `${who.name} <${who.email}> at ${account.name} ${event === 'replied' ? 'replied' : 'booked a meeting'}.`,
      `The tier-${state.tier} program has stopped for all ${state.contacts.length} contact(s) at ${account.domain}; the account is yours to follow up.`,
    ].join('\n');
    const result = await deliverTask({
      key,
      journeyId: programId,
      owner: rep,
      contact: who.email,
      channel: 'other',
      note,
      context: { contact: { email: who.email, firstName: who.name.split(' ')[0] } },
      sender: config.sender,
      messageRef: 'handover',
    });
    state.handover!.notice = result.status;
    who.tasks = [...who.tasks, { cadence: who.run.cadence, stepId: 'handover', channel: 'other', owner: rep.email, contact: who.email, status: 'open', createdAt: now(), notice: result.status }];
  }
}

