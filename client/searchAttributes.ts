// Registers the journeys' search attributes on a namespace: `pipewright dev` gets them from the dev
// server's flags; any other cluster (and the time-skipping test server) through this call.
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { JOURNEY_SEARCH_ATTRIBUTES } from '../workflows/searchAttributes';

const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
const GRPC_UNIMPLEMENTED = 12;

type Operator = Pick<Connection, 'operatorService'>;

/** The attributes the namespace lacks. The time-skipping test server cannot list: it starts with none. */
export async function missingSearchAttributes(connection: Operator, namespace: string): Promise<string[]> {
  let existing: Record<string, unknown> = {};
  try {
    existing = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (err) {
    if ((err as { code?: number }).code !== GRPC_UNIMPLEMENTED) throw err;
  }
  return JOURNEY_SEARCH_ATTRIBUTES.map((key) => key.name).filter((name) => !existing[name]);
}

/** Adds the attributes the namespace lacks; returns their names (none when all were there). */
export async function registerSearchAttributes(connection: Operator, namespace: string): Promise<string[]> {
  const missing = await missingSearchAttributes(connection, namespace);
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map((name) => [name, KEYWORD])) });
  return missing;
}
