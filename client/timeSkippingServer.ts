// Starts the time-skipping test server as our own child process and waits for its port as long as
// a busy machine needs. The SDK's own start gives the server 5 seconds; the test server built from
// the registries is a JVM, and on a 2-core CI machine running other test files beside it, three
// 5-second tries in a row have all missed.
import { spawn, type ChildProcess } from 'node:child_process';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { acceptsConnections, freePort } from './freePort';
import { stopProcess } from './stopProcess';

const STARTUP_LIMIT_MS = 90_000;

type CreateOptions = { server: { type: 'existing' }; address: string; namespace: string; supportsTimeSkipping: true };
type Create = (options: CreateOptions) => Promise<TestWorkflowEnvironment>;

/**
 * The SDK's time-skipping environment, attached to a server we started. Its public constructors
 * either start the server themselves (5 s limit) or attach without time skipping, so this uses the
 * one private factory both share; the SDK version is pinned exactly in package.json.
 */
async function attach(address: string, child: ChildProcess): Promise<TestWorkflowEnvironment> {
  const create = (TestWorkflowEnvironment as unknown as { create?: Create }).create;
  if (typeof create !== 'function') throw new Error('@temporalio/testing no longer has TestWorkflowEnvironment.create: update client/timeSkippingServer.ts');
  const env = await create.call(TestWorkflowEnvironment, { server: { type: 'existing' }, address, namespace: 'default', supportsTimeSkipping: true });
  const teardown = env.teardown.bind(env);
  env.teardown = async () => {
    await teardown();
    await stopProcess(child, 10_000);
  };
  return env;
}

export async function startTimeSkippingServer(executable: string, limitMs = STARTUP_LIMIT_MS): Promise<TestWorkflowEnvironment> {
  const port = await freePort();
  const child = spawn(executable, [String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr = (stderr + chunk).slice(-2000)));
  try {
    await waitForPort(port, child, limitMs, () => stderr);
    return await attach(`127.0.0.1:${port}`, child);
  } catch (err) {
    await stopProcess(child, 10_000);
    throw err;
  }
}

async function waitForPort(port: number, child: ChildProcess, limitMs: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + limitMs;
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited with ${signal ?? code}`));
  child.once('error', (err) => (exited = `could not be started: ${err.message}`));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`the time-skipping test server ${exited}${stderr() ? `:\n${stderr()}` : ''}`);
    if (await acceptsConnections(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the time-skipping test server did not open port ${port} within ${limitMs / 1000} s${stderr() ? `:\n${stderr()}` : ''}`);
}


