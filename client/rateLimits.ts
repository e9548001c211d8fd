// How many requests the intake takes in a minute: per API key on the private API, per client
// address on the public face (the unsubscribe pages). Over the limit: 429 with Retry-After.
export interface RateLimits {
  perKey: number;
  perIp: number;
}

export const RATE_LIMIT_ENV = { perKey: 'PIPEWRIGHT_RATE_LIMIT_PER_KEY', perIp: 'PIPEWRIGHT_RATE_LIMIT_PER_IP' } as const;
export const DEFAULT_RATE_LIMITS: RateLimits = { perKey: 600, perIp: 60 };

/** The limits from the environment, the defaults where unset; a bad value is refused naming its variable. */
export function rateLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): RateLimits {
  const read = (which: keyof RateLimits): number => {
    const text = env[RATE_LIMIT_ENV[which]]?.trim();
    if (!text) return DEFAULT_RATE_LIMITS[which];
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`${RATE_LIMIT_ENV[which]} must be a whole number of requests per minute, 1 or more; it is "${text}"`);
    }
    return value;
  };
  return { perKey: read('perKey'), perIp: read('perIp') };
}
