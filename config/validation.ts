import type { z } from 'zod';

// One problem a line, "path: message", so marketing ops can fix a whole file in one pass and a
// CRM integration can log exactly which field of a lead was wrong.
export class ValidationError extends Error {
  constructor(
    readonly subject: string,
    readonly problems: string[],
  ) {
    super(`${subject} is not valid:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ValidationError';
  }
}

export type Path = readonly PropertyKey[];

/** `cadences.nurture.steps[1].wait` */
export function formatPath(path: Path): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else text += text ? `.${String(key)}` : String(key);
  }
  return text || '(top level)';
}

/**
 * Validates `data` against `schema`; on failure throws a ValidationError listing every problem.
 * `locate` may add where a path sits in the source (a line number in a YAML file).
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  data: unknown,
  subject: string,
  locate: (path: Path) => string = () => '',
): z.infer<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const problems: string[] = [];
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(schema, issue.path);
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        const hint = known.length ? `; expected one of ${known.join(', ')}` : '';
        problems.push(`${formatPath(path)}: unknown key "${key}"${hint}${locate(path)}`);
      }
    } else {
      problems.push(`${formatPath(issue.path)}: ${describe(issue)}${locate(issue.path)}`);
    }
  }
  throw new ValidationError(subject, problems);
}

function describe(issue: z.core.$ZodIssue): string {
  // zod says "Invalid input: expected string, received undefined" for a missing field.
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
    return `required (expected ${issue.expected})`;
  }
  return issue.message.replace(/^Invalid input: /, '');
}

type Def = { type: string; shape?: Record<string, z.ZodType>; element?: z.ZodType; innerType?: z.ZodType; in?: z.ZodType; valueType?: z.ZodType };

/** The keys an object schema allows at `path`, to suggest the right spelling of an unknown key. */
function knownKeys(schema: z.ZodType, path: Path): string[] {
  let node: z.ZodType | undefined = schema;
  const unwrap = (n: z.ZodType | undefined): z.ZodType | undefined => {
    while (n) {
      const def = (n as unknown as { _zod: { def: Def } })._zod.def;
      if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable') n = def.innerType;
      else if (def.type === 'pipe') n = def.in;
      else return n;
    }
    return n;
  };
  for (const key of path) {
    node = unwrap(node);
    if (!node) return [];
    const def = (node as unknown as { _zod: { def: Def } })._zod.def;
    if (def.type === 'object') node = def.shape?.[String(key)];
    else if (def.type === 'array') node = def.element;
    else if (def.type === 'record') node = def.valueType;
    else return [];
  }
  node = unwrap(node);
  const def = node && (node as unknown as { _zod: { def: Def } })._zod.def;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}
