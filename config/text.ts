import { z } from 'zod';

// Free text from outside (forms, CRMs, lists, reps): bounded, and free of what breaks the places it
// goes. A name is one line, since it lands in subjects and headers; PostgreSQL stores no NUL at all.

const CONTROL = /[\u0000-\u001f\u007f]/;

/** A name, a company, a channel: 1 to `max` characters on one line. */
export const oneLine = (max: number) =>
  z
    .string()
    .min(1)
    .max(max, { error: `expected at most ${max} characters` })
    .refine((v) => !CONTROL.test(v), { error: 'expected one line of text, without control characters' });

/** Notes and template fields: up to `max` characters, lines allowed, no NUL. */
export const longText = (max: number) =>
  z
    .string()
    .max(max, { error: `expected at most ${max} characters` })
    .refine((v) => !v.includes('\u0000'), { error: 'expected text without NUL characters' });
