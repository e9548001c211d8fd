// `config diff`'s engine: what changed between two configs, by cadence, step id, template and section.
import { diffConfigs, formatChanges } from '../config/diff';
import { loadConfig } from '../config/load';
import type { Config } from '../config/schema';
import { exampleConfigFile } from './support/fixtures';

const example = loadConfig(exampleConfigFile);
const copy = (): Config => structuredClone(example);

test('a config compared with itself has no changes', () => {
  expect(diffConfigs(example, copy())).toEqual([]);
  expect(formatChanges(diffConfigs(example, copy()))).toEqual([]);
});

test('a step whose template changed is named by its id, with both templates', () => {
  const next = copy();
  next.templates['nurture-habits-v2'] = { ...next.templates['nurture-habits']! };
  next.cadences.nurture!.steps[2] = { id: 'habits', email: 'nurture-habits-v2' };
  expect(formatChanges(diffConfigs(example, next))).toEqual([
    'cadence nurture: step habits changed (email: nurture-habits -> nurture-habits-v2)',
    'template nurture-habits-v2 added',
  ]);
});

test('an inserted step is added at its position, and the steps after it are not "moved"', () => {
  const next = copy();
  next.cadences.nurture!.steps.splice(3, 0, { id: 'check-in', task: 'call', template: 'a-call' });
  expect(diffConfigs(example, next)).toEqual([{ kind: 'step-added', cadence: 'nurture', step: 'check-in', position: 4, what: 'task: call (a-call)' }]);
  expect(formatChanges(diffConfigs(example, next))).toEqual(['cadence nurture: step check-in added at position 4 (task: call (a-call))']);
});

test('removed and moved steps, a changed wait and a changed exitOn', () => {
  const next = copy();
  const steps = next.cadences.nurture!.steps;
  // guide, wait-3d, habits, wait-4d, call-offer -> call-offer, guide, wait-3d (5d), habits
  next.cadences.nurture!.steps = [steps[4]!, steps[0]!, { ...steps[1]!, wait: '5d' }, steps[2]!];
  next.cadences.nurture!.exitOn = ['unsubscribed', 'bounced', 'replied'];
  expect(formatChanges(diffConfigs(example, next))).toEqual([
    'cadence nurture: step call-offer moved from position 5 to 1',
    'cadence nurture: step wait-3d changed (wait: 3d -> 5d)',
    'cadence nurture: step wait-4d removed (was at position 4: wait: 4d)',
    'cadence nurture: exitOn changed (no longer on meeting-booked, disqualified, converted)',
  ]);
});

test('a step that changed kind shows both sides whole', () => {
  const next = copy();
  next.cadences['tier-c']!.steps[1] = { id: 'wait-4w', task: 'linkedin' };
  expect(formatChanges(diffConfigs(example, next))).toEqual(['cadence tier-c: step wait-4w changed (wait: 4w -> task: linkedin)']);
});

test('added and removed cadences, templates, and other sections', () => {
  const next = copy();
  next.cadences.reactivation = { steps: [{ id: 'hello-again', email: 'nurture-guide' }], exitOn: [...example.cadences.nurture!.exitOn] };
  delete next.cadences['tier-c'];
  next.tiers!.programs.C.cadence = 'tier-b';
  next.templates['nurture-guide']!.body += '\nP.S. Reply any time.';
  delete next.templates['c-news-1'];
  delete next.templates['c-news-2'];
  next.sending.windows.email = ['09:00-11:00'];
  next.sending.limits.perContact.perDay = 2;
  next.journey.replyWindow = '14d';
  expect(formatChanges(diffConfigs(example, next))).toEqual([
    'cadence tier-c removed (had 3 steps; journeys already in it keep their definition)',
    'cadence reactivation added (1 step)',
    'template nurture-guide changed (a fix reaches running journeys at their next send)',
    'template c-news-1 removed (running journeys that use it send their own copy)',
    'template c-news-2 removed (running journeys that use it send their own copy)',
    'sending changed (windows, limits)',
    'tiers changed (programs)',
    'journey changed (replyWindow)',
  ]);
  expect(diffConfigs(example, next)).toContainEqual({ kind: 'template-changed', template: 'nurture-guide', fields: ['body'] });
});

test('key order and defaults do not count as changes', () => {
  const next = copy();
  const { subject, body, format, fallbacks } = next.templates['nurture-call']!;
  next.templates['nurture-call'] = { fallbacks, format, body, subject };
  expect(diffConfigs(example, next)).toEqual([]);
});

test('an sms section added is a change of it', () => {
  const old = copy();
  delete old.sms;
  // The example's tier-a sends an SMS, so only the section is compared here, not validated.
  expect(formatChanges(diffConfigs(old, example))).toEqual(['sms changed']);
});
