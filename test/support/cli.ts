import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { stopProcess } from '../../client/stopProcess';
import { packageRoot } from '../../client/paths';

// From the package root, so it is the same file whether this runs from source (jest) or from dist/.
export const cliPath = join(packageRoot(), 'dist', 'client', 'cli.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `pipewright ...` as a user would, from the built package. */
export function pipewright(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, ...options.env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Starts a long-running command (the worker) and resolves once its output says it is ready. */
export function startPipewright(args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ child: ChildProcess; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => reject(new Error(`pipewright ${args.join(' ')} not ready in 60 s:\n${output}`)), 60_000);
    const onData = (d: Buffer) => {
      output += d;
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve({ child, output: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pipewright ${args.join(' ')} exited with ${code}:\n${output}`));
    });
  });
}

/** Asks a process to stop (SIGTERM, as a service manager would); kills it if it has not within 30 s. */
export function stop(child: ChildProcess): Promise<void> {
  // startPipewright's listener treats an exit as a failed start; this exit is asked for.
  child.removeAllListeners('exit');
  return stopProcess(child, 30_000);
}
