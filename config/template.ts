import Mustache from 'mustache';

// Templates are Mustache. A plain-text template prints values as they are ("Smith & Sons"); an HTML
// template escapes every value that came from a lead, so a company called "<script>" is text.
export type TemplateContext = Record<string, unknown>;

/** Where a placeholder may point: the person, their account, their owner, the sender. */
export const PLACEHOLDER_ROOTS = ['lead', 'contact', 'account', 'owner', 'sender', 'deal'] as const;

const PERSON_FIELDS = ['email', 'firstName', 'lastName', 'title', 'phone', 'company', 'industry', 'region', 'employees', 'source', 'timezone', 'country'];
const KNOWN: Record<string, string[]> = {
  lead: PERSON_FIELDS,
  contact: PERSON_FIELDS,
  account: ['name', 'domain', 'tier', 'industry', 'region', 'employees', 'country'],
  owner: ['name', 'email'],
  sender: ['name', 'email'],
  /** A recycled lead's lost deal: why it was lost, as field sales recorded it. */
  deal: ['lostReason'],
};

/** Always there, for every lead and every account contact: every other placeholder needs a fallback. */
export const ALWAYS_PRESENT = [
  'lead.email', 'lead.firstName', 'lead.company',
  'contact.email', 'contact.firstName', 'contact.company',
  'account.name', 'sender.name', 'sender.email', 'unsubscribeUrl',
];

export function renderTemplate(template: string, context: TemplateContext, options: { html?: boolean } = {}): string {
  const escape = options.html ? escapeHtml : (value: string) => value;
  return Mustache.render(template, context, undefined, { escape });
}

/**
 * Renders with fallbacks for values that are missing or empty, so nobody is greeted "Hi ,".
 * Fallbacks are written by marketing ops and escaped like any other value.
 */
export function renderMessage(template: string, context: TemplateContext, fallbacks: Record<string, string>, options: { html?: boolean } = {}): string {
  const filled = structuredClone(context) as Record<string, unknown>;
  for (const [name, fallback] of Object.entries(fallbacks)) {
    if (isBlank(valueAt(filled, name))) setAt(filled, name, fallback);
  }
  return renderTemplate(template, filled, options);
}

/** The names a template refers to, or the reason it cannot be parsed. */
export function templatePlaceholders(template: string): { names: string[] } | { error: string } {
  try {
    return { names: collectNames(Mustache.parse(template) as unknown[]) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** What is wrong with a placeholder, or undefined when it names something a message can carry. */
export function placeholderProblem(name: string, fallbacks: Record<string, string>): string | undefined {
  const [root, field, sub] = name.split('.');
  const known = name === 'unsubscribeUrl' || (root !== undefined && field !== undefined && (KNOWN[root]?.includes(field) ? sub === undefined : field === 'fields' && sub !== undefined));
  if (!known) {
    const fields = root !== undefined && KNOWN[root];
    if (fields) return `unknown placeholder {{${name}}}: expected ${root}.<one of ${fields.join(', ')}>${root === 'owner' || root === 'sender' ? '' : ` or ${root}.fields.<name>`}`;
    return `unknown placeholder {{${name}}}: expected unsubscribeUrl or a field of ${PLACEHOLDER_ROOTS.join(', ')} (e.g. {{contact.firstName}})`;
  }
  if (!ALWAYS_PRESENT.includes(name) && !(name in fallbacks)) {
    return `{{${name}}} may be missing: give it a fallback under fallbacks (e.g. ${JSON.stringify(name)}: "there")`;
  }
  return undefined;
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

function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`=/]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

function valueAt(context: Record<string, unknown>, name: string): unknown {
  return name.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), context);
}

function setAt(context: Record<string, unknown>, name: string, value: unknown): void {
  const keys = name.split('.');
  let node = context;
  for (const key of keys.slice(0, -1)) {
    if (!node[key] || typeof node[key] !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}
