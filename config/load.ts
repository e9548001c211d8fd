import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode } from 'yaml';
import type { z } from 'zod';
import { ConfigSchema, type Config } from './schema';
import { parseOrThrow, ValidationError, type Path } from './validation';

/** Reads, parses and validates a config file; throws a ValidationError naming every problem. */
export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ValidationError(file, [`cannot read the file: ${(err as Error).message}`]);
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, subject = 'config'): Config {
  return parseYaml(ConfigSchema, text, subject).value;
}

/**
 * YAML text validated by a schema; a ValidationError names every problem and the line it is on, so a
 * long file can be fixed without hunting. `locate` names the line of a path for later checks.
 */
export function parseYaml<S extends z.ZodType>(schema: S, text: string, subject: string): { value: z.output<S>; locate: (path: Path) => string } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length) {
    throw new ValidationError(
      subject,
      doc.errors.map((e) => {
        const at = lines.linePos(e.pos[0]);
        return `line ${at.line}, column ${at.col}: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  const locate = (path: Path): string => {
    for (let depth = path.length; depth > 0; depth--) {
      const node = doc.getIn(path.slice(0, depth) as unknown[], true);
      if (isNode(node) && node.range) return ` (line ${lines.linePos(node.range[0]).line})`;
    }
    return '';
  };
  return { value: parseOrThrow(schema, doc.toJS(), subject, locate), locate };
}
