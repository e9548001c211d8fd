import Mustache from 'mustache';

// Templates are Mustache with HTML escaping off: these are plain-text e-mails, and "{{lead.company}}"
// must print "Smith & Sons", not "Smith &amp; Sons".
export type TemplateContext = Record<string, unknown>;

export function renderTemplate(template: string, context: TemplateContext): string {
  return Mustache.render(template, context, undefined, { escape: (value: string) => value });
}

/** The names a template refers to, or the reason it cannot be parsed. */
export function templatePlaceholders(template: string): { names: string[] } | { error: string } {
  try {
    return { names: collectNames(Mustache.parse(template) as unknown[]) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

// Mustache tokens are [type, value, start, end, children?]; "name", "&", "{", "#" and "^" name a value.
function collectNames(tokens: unknown[]): string[] {
  const names: string[] = [];
  for (const token of tokens as [string, string, number, number, unknown[]?][]) {
    const [type, value, , , children] = token;
    if (['name', '&', '{', '#', '^'].includes(type)) names.push(value);
    if (children) names.push(...collectNames(children));
  }
  return names;
}
