// Moving a running cadence to a new definition: at the next step boundary, by step id, so a step
// that kept its id keeps its place however the steps around it changed.
import type { Cadence } from '../../config/cadence';
import type { Config } from '../../config/schema';
import type { CadenceMigration, MigrationAnswer } from '../messages';
import { definitionOf } from './engine';
import type { CadenceRun } from './run';

/** Whether a run can take this migration, answered when it is asked (the update's reply). */
export function migrationAnswer(run: CadenceRun | undefined, request: CadenceMigration, config: Pick<Config, 'cadences'>): MigrationAnswer {
  if (!run || run.cadence !== request.cadence) return { moved: false, detail: `not in cadence ${request.cadence}` };
  if (run.status === 'done') return { moved: false, detail: `cadence ${request.cadence} already ended (${run.exit})` };
  if (run.configVersion !== undefined && run.configVersion >= request.configVersion) return { moved: false, detail: `already on config version ${run.configVersion}` };
  const { from, to } = mapStep(definitionOf(run, config), request.definition, run.step);
  return { moved: true, detail: `from step ${from ?? '(end)'} to ${to ?? '(end)'} at the next step boundary` };
}

/** Applies it; returns what the journal records. */
export function applyMigration(run: CadenceRun, request: CadenceMigration, config: Pick<Config, 'cadences'>): Record<string, unknown> {
  const { index, from, to } = mapStep(definitionOf(run, config), request.definition, run.step);
  const fromVersion = run.configVersion;
  run.definition = request.definition;
  run.configVersion = request.configVersion;
  run.step = index;
  run.pending = undefined;
  return { cadence: run.cadence, fromVersion, toVersion: request.configVersion, fromStep: from, toStep: to };
}

/**
 * The step of the new definition with the current step's id; when that step was removed, the first
 * later step of the old definition that the new one still has; else the end of the new cadence.
 */
function mapStep(old: Cadence, next: Cadence, at: number): { index: number; from?: string; to?: string } {
  const from = old.steps[at]?.id;
  for (let i = at; i < old.steps.length; i++) {
    const index = next.steps.findIndex((s) => s.id === old.steps[i]!.id);
    if (index >= 0) return { index, from, to: next.steps[index]!.id };
  }
  return { index: next.steps.length, from };
}
