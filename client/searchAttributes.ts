// Registers the journeys' search attributes on a namespace: `pipewright dev` gets them from the dev
// server's flags; any other cluster (and the time-skipping test server) through this call.
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { JOURNEY_SEARCH_ATTRIBUTES } from '../workflows/searchAttributes';

const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
const GRPC_UNIMPLEMENTED = 12;

/** Adds the attributes the namespace lacks; returns their names (none when all were there). */
export async function registerSearchAttributes(connection: Pick<Connection, 'operatorService'>, namespace: string): Promise<string[]> {
  let existing: Record<string, unknown> = {};
  try {
    existing = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (err) {
    // The time-skipping test server can add attributes but not list them: it starts with none.
    if ((err as { code?: number }).code !== GRPC_UNIMPLEMENTED) throw err;
  }
  const missing = JOURNEY_SEARCH_ATTRIBUTES.map((key) => key.name).filter((name) => !existing[name]);
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map((name) => [name, KEYWORD])) });
  return missing;
}
