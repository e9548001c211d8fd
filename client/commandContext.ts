// What every `pipewright` subcommand shares: argument parsers, and the store and Temporal client
// it opens for one command and closes after.
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { InvalidArgumentError } from 'commander';
import { ValidationError } from '../config/validation';
import type { Store } from '../store';
import { connectClient, connectStore, temporalSettings } from './connection';

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError(`expected a port number, got "${value}"`);
  return n;
}

export function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a whole number above 0, got "${value}"`);
  return n;
}

/** Runs one command's calls on the store in PIPEWRIGHT_DATABASE_URL (by default `pipewright dev`'s), then closes it. */
export async function withStore(use: (store: Store) => Promise<void>): Promise<void> {
  const store = await connectStore();
  try {
    await use(store);
  } finally {
    await store.close();
  }
}

/** Runs one command's calls on a client for the Temporal server in the environment, then closes it. */
export async function withClient(use: (client: Client, taskQueue: string) => Promise<void>): Promise<void> {
  const settings = temporalSettings();
  const client = await connectClient(settings);
  try {
    await use(client, settings.taskQueue);
  } finally {
    await client.connection.close();
  }
}

export function readJson(file: string, subject: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ValidationError(subject, [`not valid JSON: ${(err as Error).message}`]);
  }
}

