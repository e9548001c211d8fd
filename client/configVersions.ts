// One config in force at a time, for every way a lead gets in: validated config versions kept in the
// store, the newest activation being the active one. Every command and the intake start journeys on
// the active version; a journey keeps the version it started with. Nothing here prints: callers say
// what happened (a first use that applied the fallback file, a version that no longer validates).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseConfig } from '../config/load';
import type { Config } from '../config/schema';
import { ValidationError } from '../config/validation';
import type { Store } from '../store';
import { defaultConfigFile } from './paths';

export interface ActiveConfigResult {
  config: Config;
  /** The stored version: set whenever the store answered (always, in practice). */
  version?: number;
  /** 'store': the version was already active; 'file': none was, so `file` was applied just now. */
  source: 'store' | 'file';
  /** The fallback file applied, when source is 'file'. */
  file?: string;
  /** When the version became active (now, for a fallback just applied). */
  activatedAt?: Date;
}

export interface AppliedConfig {
  version: number;
  /** False when an identical source was stored before: its old version number is reused. */
  created: boolean;
  /** False when that version already was the active one. */
  activated: boolean;
  /** The version active before, if any. */
  previous?: number;
  config: Config;
}

/**
 * The active config version, validated again against today's schema (parsed from its stored source
 * text), so a version stored by an older Pipewright that no longer validates is a ValidationError
 * naming that version rather than a journey failing later. With no version stored yet, `fallbackFile`
 * (default: PIPEWRIGHT_CONFIG, else the example) is validated and applied, so that from then on exactly
 * one version is active.
 */
export async function activeConfig(store: Store, fallbackFile: string = defaultConfigFile(), by = actor('first use')): Promise<ActiveConfigResult> {
  const active = await store.activeConfig();
  if (active) return { config: parseStored(active.version, active.source, true), version: active.version, source: 'store', activatedAt: active.activatedAt };
  const applied = await applyConfigFile(store, fallbackFile, by);
  return { config: applied.config, version: applied.version, source: 'file', file: fallbackFile, activatedAt: new Date() };
}

/** Validates a file (a ValidationError names every problem) and makes it the active version. */
export async function applyConfigFile(store: Store, file: string, by: string): Promise<AppliedConfig> {
  const { text, config } = readConfigFile(file);
  const previous = (await store.activeConfig())?.version;
  const result = await store.applyConfig({ source: text, config, by });
  return { ...result, ...(previous !== undefined && { previous }), config };
}

/** A stored version, validated again; throws when the store has no such version. */
export async function storedConfig(store: Store, version: number): Promise<{ config: Config; version: number; source: string; createdAt: Date }> {
  const stored = await store.configVersion(version);
  if (!stored) throw new Error(`no config version ${version} in the store at ${store.url} (\`pipewright config history\` lists them)`);
  return { config: parseStored(stored.version, stored.source), version: stored.version, source: stored.source, createdAt: stored.createdAt };
}

/** The file's text and its validated config, from one read (what is stored is exactly what was checked). */
export function readConfigFile(file: string): { text: string; config: Config } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ValidationError(file, [`cannot read the file: ${(err as Error).message}`]);
  }
  return { text, config: parseConfig(text, file) };
}

/** The sha256 the store keys a version's source by. */
export function sourceSha256(source: string): string {
  return createHash('sha256').update(source, 'utf8').digest('hex');
}

/** Who applied a version, for `config show` and `config history`: the OS user and how. */
export function actor(how: string): string {
  let user = process.env.USER || process.env.USERNAME || '';
  try {
    user = userInfo().username || user;
  } catch {
    // No passwd entry (some containers): the environment's name, if any, will do.
  }
  return `${user || 'unknown'} (${how})`;
}

/** A stored version that today's schema refuses (stored by an older Pipewright) is named in the error. */
function parseStored(version: number, source: string, active = false): Config {
  return parseConfig(source, active ? `config version ${version} (the active one; \`pipewright config apply FILE\` replaces it)` : `config version ${version}`);
}

export interface ActiveConfigCache {
  /** The active version, read again from the store at most every `maxAgeMs`. */
  get(): Promise<ActiveConfigResult>;
  /** Forget the cached version: the next get() reads the store. */
  reload(): void;
}

/**
 * For a long-running process (the intake): reading and validating the active version for every lead
 * would cost a query and a YAML parse each, so the version is re-read at most every `maxAgeMs` (5 s):
 * a `config apply` reaches new leads within that, and validation runs again only when the version
 * number changed. Concurrent callers share one read. A failed read is not cached; once a version has
 * been read, a failed re-read keeps it in force (onError says why), so a store that is away for a
 * moment or a version this code cannot read never stops new leads.
 */
export function activeConfigCache(
  store: Store,
  options: {
    fallbackFile?: string;
    maxAgeMs?: number;
    initial?: ActiveConfigResult;
    by?: string;
    now?: () => number;
    /** A re-read failed and `serving` stays in force; default: nothing is said. */
    onError?: (err: Error, serving: ActiveConfigResult) => void;
  } = {},
): ActiveConfigCache {
  const maxAgeMs = options.maxAgeMs ?? 5_000;
  const now = options.now ?? Date.now;
  let cached: { at: number; value: Promise<ActiveConfigResult> } | undefined = options.initial && { at: now(), value: Promise.resolve(options.initial) };
  let last: ActiveConfigResult | undefined = options.initial;
  const read = async (): Promise<ActiveConfigResult> => {
    try {
      const active = await store.activeConfig();
      if (active && last && active.version === last.version) return { ...last, source: 'store', activatedAt: active.activatedAt };
      const result = active
        ? { config: parseStored(active.version, active.source, true), version: active.version, source: 'store' as const, activatedAt: active.activatedAt }
        : await activeConfig(store, options.fallbackFile, options.by);
      last = result;
      return result;
    } catch (err) {
      // The store away for a moment, or a version this code cannot read: the last good one serves on.
      if (!last) throw err;
      options.onError?.(err as Error, last);
      return last;
    }
  };
  return {
    get() {
      if (!cached || now() - cached.at >= maxAgeMs) {
        const value = read();
        const entry = { at: now(), value };
        cached = entry;
        value.catch(() => {
          if (cached === entry) cached = undefined;
        });
      }
      return cached.value;
    },
    reload() {
      cached = undefined;
    },
  };
}
