import { z } from 'zod';
import { DURATION_HINT, isDuration } from './duration';

/** A duration field of the config file, such as "3d". Apart from duration.ts, which workflow code imports without zod. */
export const DurationSchema = z.string({ error: DURATION_HINT }).refine(isDuration, { error: DURATION_HINT });
