// What changed between two configs, in the words a marketer reviews a change in: which cadences
// and which of their steps (by step id, so a renamed template or a moved step reads as such), which
// templates, and which other sections. Pure: both sides are validated configs.
import type { Cadence, CadenceExit, CadenceStep } from './cadence';
import { stepKind, variantsOf } from './vocabulary';
import type { Config } from './schema';

/** The top-level sections compared as a whole (said changed or not), in the order they are reported. */
export const SECTIONS = ['sender', 'unsubscribe', 'team', 'qualification', 'routing', 'sla', 'sending', 'sms', 'tiers', 'journey'] as const;
export type Section = (typeof SECTIONS)[number];

export type ConfigChange =
  | { kind: 'cadence-added'; cadence: string; steps: number }
  | { kind: 'cadence-removed'; cadence: string; steps: number }
  /** `position` is 1-based, in the new definition. */
  | { kind: 'step-added'; cadence: string; step: string; position: number; what: string }
  /** `position` is 1-based, in the old definition. */
  | { kind: 'step-removed'; cadence: string; step: string; position: number; what: string }
  | { kind: 'step-changed'; cadence: string; step: string; from: string; to: string }
  /** Its place among the steps both definitions have changed (1-based positions). */
  | { kind: 'step-moved'; cadence: string; step: string; from: number; to: number }
  | { kind: 'exit-on-changed'; cadence: string; added: CadenceExit[]; removed: CadenceExit[] }
  | { kind: 'template-added'; template: string }
  | { kind: 'template-removed'; template: string }
  | { kind: 'template-changed'; template: string; fields: string[] }
  /** `keys`: the section's own keys that changed, when it is an object on both sides. */
  | { kind: 'section-changed'; section: Section; keys: string[] };

export function diffConfigs(old: Config, next: Config): ConfigChange[] {
  const changes: ConfigChange[] = [];
  for (const name of union(Object.keys(old.cadences), Object.keys(next.cadences))) {
    const before = old.cadences[name];
    const after = next.cadences[name];
    if (!before && after) changes.push({ kind: 'cadence-added', cadence: name, steps: after.steps.length });
    else if (before && !after) changes.push({ kind: 'cadence-removed', cadence: name, steps: before.steps.length });
    else if (before && after) changes.push(...diffCadence(name, before, after));
  }
  for (const name of union(Object.keys(old.templates), Object.keys(next.templates))) {
    const before = old.templates[name];
    const after = next.templates[name];
    if (!before && after) changes.push({ kind: 'template-added', template: name });
    else if (before && !after) changes.push({ kind: 'template-removed', template: name });
    else if (before && after) {
      const fields = changedKeys(before, after);
      if (fields.length) changes.push({ kind: 'template-changed', template: name, fields });
    }
  }
  for (const section of SECTIONS) {
    const before: unknown = old[section];
    const after: unknown = next[section];
    if (same(before, after)) continue;
    changes.push({ kind: 'section-changed', section, keys: isObject(before) && isObject(after) ? changedKeys(before, after) : [] });
  }
  return changes;
}

/** Steps are matched by id: added, removed, changed in place, or moved among the steps both sides have. */
export function diffCadence(name: string, old: Cadence, next: Cadence): ConfigChange[] {
  const changes: ConfigChange[] = [];
  const oldIds = old.steps.map((s) => s.id);
  const nextIds = next.steps.map((s) => s.id);
  const kept = nextIds.filter((id) => oldIds.includes(id));
  // The longest run of kept steps in the same order on both sides stayed put; the others moved.
  // (Inserting or removing a step shifts the indexes after it, but moves nothing.)
  const stayed = new Set(longestCommonSubsequence(oldIds.filter((id) => kept.includes(id)), kept));
  next.steps.forEach((step, i) => {
    const before = old.steps.find((s) => s.id === step.id);
    if (!before) {
      changes.push({ kind: 'step-added', cadence: name, step: step.id, position: i + 1, what: describeStep(step) });
      return;
    }
    if (!stayed.has(step.id)) changes.push({ kind: 'step-moved', cadence: name, step: step.id, from: oldIds.indexOf(step.id) + 1, to: i + 1 });
    if (!same(before, step)) changes.push({ kind: 'step-changed', cadence: name, step: step.id, from: describeStep(before), to: describeStep(step) });
  });
  old.steps.forEach((step, i) => {
    if (!nextIds.includes(step.id)) changes.push({ kind: 'step-removed', cadence: name, step: step.id, position: i + 1, what: describeStep(step) });
  });
  const added = next.exitOn.filter((e) => !old.exitOn.includes(e));
  const removed = old.exitOn.filter((e) => !next.exitOn.includes(e));
  if (added.length || removed.length) changes.push({ kind: 'exit-on-changed', cadence: name, added, removed });
  return changes;
}

/** One line a change, e.g. `cadence nurture: step habits changed (email: nurture-habits -> nurture-habits-v2)`. */
export function formatChanges(changes: ConfigChange[]): string[] {
  return changes.map(formatChange);
}

export function formatChange(change: ConfigChange): string {
  switch (change.kind) {
    case 'cadence-added':
      return `cadence ${change.cadence} added (${plural(change.steps, 'step')})`;
    case 'cadence-removed':
      return `cadence ${change.cadence} removed (had ${plural(change.steps, 'step')}; journeys already in it keep their definition)`;
    case 'step-added':
      return `cadence ${change.cadence}: step ${change.step} added at position ${change.position} (${change.what})`;
    case 'step-removed':
      return `cadence ${change.cadence}: step ${change.step} removed (was at position ${change.position}: ${change.what})`;
    case 'step-changed':
      return `cadence ${change.cadence}: step ${change.step} changed (${describeStepChange(change.from, change.to)})`;
    case 'step-moved':
      return `cadence ${change.cadence}: step ${change.step} moved from position ${change.from} to ${change.to}`;
    case 'exit-on-changed': {
      const parts = [...(change.added.length ? [`now also on ${change.added.join(', ')}`] : []), ...(change.removed.length ? [`no longer on ${change.removed.join(', ')}`] : [])];
      return `cadence ${change.cadence}: exitOn changed (${parts.join('; ')})`;
    }
    case 'template-added':
      return `template ${change.template} added`;
    case 'template-removed':
      return `template ${change.template} removed (running journeys that use it send their own copy)`;
    case 'template-changed':
      return `template ${change.template} changed (a fix reaches running journeys at their next send)`;
    case 'section-changed':
      return `${change.section} changed${change.keys.length ? ` (${change.keys.join(', ')})` : ''}`;
  }
}

/** `email: nurture-habits`, `wait: 3d`, `task: call (a-call)`, `branch: opened within 3d then hot-call else next`. */
export function describeStep(step: CadenceStep): string {
  const kind = stepKind(step);
  switch (kind) {
    case 'email':
    case 'sms':
      return `${kind}: ${variantsOf(step[kind]!).join(' | ')}`;
    case 'task':
      return `task: ${step.task}${step.template ? ` (${step.template})` : ''}`;
    case 'wait':
      return `wait: ${step.wait}`;
    case 'exit':
      return `exit: ${step.exit}`;
    case 'branch': {
      const b = step.branch!;
      const when = b.event !== undefined ? `${b.event} within ${b.within}` : `${b.field} in ${b.equals!.map((v) => JSON.stringify(v)).join(', ')}`;
      return `branch: ${when} then ${b.then} else ${b.else ?? 'next'}`;
    }
  }
}

/** "email: a -> b" when the kind stayed, else both sides whole. */
function describeStepChange(from: string, to: string): string {
  const [fromKind, fromWhat] = splitKind(from);
  const [toKind, toWhat] = splitKind(to);
  if (fromKind === toKind && from !== to) return `${fromKind}: ${fromWhat} -> ${toWhat}`;
  return `${from} -> ${to}`;
}

function splitKind(described: string): [string, string] {
  const at = described.indexOf(': ');
  return [described.slice(0, at), described.slice(at + 2)];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function union(a: string[], b: string[]): string[] {
  return [...a, ...b.filter((x) => !a.includes(x))];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function changedKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return union(Object.keys(a), Object.keys(b)).filter((key) => !same(a[key], b[key]));
}

/** Equal as data: key order does not matter, an undefined key is an absent one. */
export function same(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isObject(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  ) ?? 'undefined';
}

function longestCommonSubsequence(a: string[], b: string[]): string[] {
  const table: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      table[i]![j] = a[i] === b[j] ? table[i + 1]![j + 1]! + 1 : Math.max(table[i + 1]![j]!, table[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    if (a[i] === b[j]) {
      out.push(a[i]!);
      i++;
      j++;
    } else if (table[i + 1]![j]! >= table[i]![j + 1]!) i++;
    else j++;
  }
  return out;
}
