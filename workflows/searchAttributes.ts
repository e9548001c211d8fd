// Where a journey stands, as search attributes: the Web UI, `temporal workflow list --query` and
// `pipewright lead list` filter journeys by them. Never a lead's address or any other lead PII.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const STAGE = defineSearchAttributeKey('PipewrightStage', SearchAttributeType.KEYWORD);
/** The owning rep's e-mail: a team member's work address, not the lead's. */
export const OWNER = defineSearchAttributeKey('PipewrightOwner', SearchAttributeType.KEYWORD);
export const SOURCE = defineSearchAttributeKey('PipewrightSource', SearchAttributeType.KEYWORD);
export const SLA_STATUS = defineSearchAttributeKey('PipewrightSlaStatus', SearchAttributeType.KEYWORD);

/** Every attribute a namespace must have registered before journeys start. */
export const JOURNEY_SEARCH_ATTRIBUTES = [STAGE, OWNER, SOURCE, SLA_STATUS];
