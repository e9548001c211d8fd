// The config in force, as the worker's activities see it: re-read from the store at most every 10
// seconds, so a `config apply` reaches the next message or assignment soon after, without a query per call.
import type { Config } from '../config/schema';
import type { Store } from '../store';

const CACHE_MS = 10_000;

export interface ActiveConfigSource {
  /** The active config and its version; undefined while none was ever applied (the journey's own copy then serves). */
  get(): Promise<{ version: number; config: Config } | undefined>;
}

export function activeConfigSource(store: Store, now: () => number = Date.now): ActiveConfigSource {
  let cached: { at: number; value?: { version: number; config: Config } } | undefined;
  return {
    async get() {
      if (!cached || now() - cached.at > CACHE_MS) {
        const active = await store.activeConfig();
        cached = { at: now(), value: active ? { version: active.version, config: active.config as Config } : undefined };
      }
      return cached.value;
    },
  };
}
