// The worker's metrics for Prometheus. The SDK's native runtime records and serves them itself
// (pollers, task slots, task latencies, workflow completions), at /metrics on
// PIPEWRIGHT_METRICS_ADDRESS; unset, no metrics are served.
import { isIPv4, isIPv6 } from 'node:net';
import { Runtime } from '@temporalio/worker';

export const METRICS_ADDRESS_ENV = 'PIPEWRIGHT_METRICS_ADDRESS';

/**
 * The IP:PORT to serve metrics on, or undefined when unset. Checked here because the SDK takes an
 * IP address only (a host name such as localhost fails deep in its runtime) and port 0 would bind
 * a port nobody could learn.
 */
export function metricsAddress(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const raw = env[METRICS_ADDRESS_ENV]?.trim();
  if (!raw) return undefined;
  // IPv6 in brackets, as in a URL: [::]:9464.
  const [, ipv6, ipv4, port] = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(raw) ?? [];
  const ipOk = ipv6 !== undefined ? isIPv6(ipv6) : isIPv4(ipv4 ?? '');
  if (!ipOk || !port || Number(port) < 1 || Number(port) > 65_535) {
    throw new Error(`${METRICS_ADDRESS_ENV}="${raw}": expected IP:PORT to serve Prometheus metrics on, such as 0.0.0.0:9464 (every interface), 127.0.0.1:9464 or [::]:9464; an IP address, not a host name, and a port from 1 to 65535`);
  }
  return raw;
}

let serving: string | undefined;

/**
 * Installs the SDK's runtime with its Prometheus exporter bound to `address` and returns the URL
 * it serves. Call before the first NativeConnection, which would otherwise start a runtime without
 * metrics; the runtime is one per process, so a second call can only repeat the first.
 */
export function serveMetrics(address: string): string {
  const url = `http://${address}/metrics`;
  if (serving === address) return url;
  try {
    Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress: address } } } });
  } catch (err) {
    // Such as the port already in use: the SDK's message does not say which setting chose it.
    throw new Error(`${METRICS_ADDRESS_ENV}=${address}: cannot serve metrics there: ${(err as Error).message}`);
  }
  serving = address;
  return url;
}
