// Real Temporal servers for the tests: the time-skipping test server for long cadences at their real
// durations, the dev server for end-to-end runs. Both come from the same resolver `pipewright dev` uses.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ensureServer, startDevServer } from '../../client/servers';
import { workflowsPath, createWorker } from '../../worker/worker';
import type { MailSink } from '../../client/mailSink';

let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const path = await ensureServer('test-server');
  return TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
}

export async function devServerEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return startDevServer();
}

/** Bundled once per test file and shared by its workers (~1 s each time). */
export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: new DefaultLogger('WARN') });
}

export function testWorker(env: TestWorkflowEnvironment, bundle: WorkflowBundleWithSourceMap, sink: MailSink, taskQueue: string) {
  return createWorker({
    connection: env.nativeConnection,
    namespace: env.namespace,
    taskQueue,
    client: env.client,
    mailer: sink.mailer(),
    workflowBundle: bundle,
  });
}
