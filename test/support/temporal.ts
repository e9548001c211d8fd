// Real Temporal servers for the tests: the time-skipping test server for long cadences at their real
// durations, the dev server for end-to-end runs. Both come from the same resolver `pipewright dev` uses.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { registerSearchAttributes } from '../../client/searchAttributes';
import { ensureServer, startDevServer } from '../../client/servers';
import { startTimeSkippingServer } from '../../client/timeSkippingServer';
import { workflowsPath, createWorker } from '../../worker/worker';
import type { MailSink } from '../../client/mailSink';
import type { Store } from '../../store';
import type { SmsSender } from '../../activities/sms';

let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const path = await ensureServer('test-server');
  const env = await startTimeSkippingServer(path);
  await registerSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
}

export async function devServerEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return startDevServer();
}

/** Bundled once per test file and shared by its workers (~1 s each time). */
export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: new DefaultLogger('WARN') });
}

/** A worker on `env`: the SDK's test environments, or a cluster's connections (client/cluster.ts). */
export function testWorker(env: Pick<TestWorkflowEnvironment, 'client' | 'nativeConnection' | 'namespace'>, bundle: WorkflowBundleWithSourceMap, sink: MailSink, store: Store, taskQueue: string, sms?: SmsSender) {
  return createWorker({
    connection: env.nativeConnection,
    namespace: env.namespace,
    taskQueue,
    client: env.client,
    mailer: sink.mailer(),
    store,
    sms,
    workflowBundle: bundle,
  });
}
