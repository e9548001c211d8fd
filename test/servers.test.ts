// The resolver's order: an explicit path, then PATH and the cache. (The SDK download and the builds
// from the registries run in the global setup of every fresh test run.)
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
  jest.resetModules();
});

const resolver = () => require('../client/servers') as typeof import('../client/servers');

test('a path in TEMPORAL_CLI_PATH wins', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipewright-servers-'));
  const exe = join(dir, 'my-temporal');
  writeFileSync(exe, '#!/bin/sh\n');
  chmodSync(exe, 0o755);
  process.env.TEMPORAL_CLI_PATH = exe;
  expect(await resolver().ensureServer('dev-server')).toBe(exe);
});

test('a TEMPORAL_TEST_SERVER_PATH that is not an executable is an error that names it', async () => {
  process.env.TEMPORAL_TEST_SERVER_PATH = '/nowhere/temporal-test-server';
  await expect(resolver().ensureServer('test-server')).rejects.toThrow('TEMPORAL_TEST_SERVER_PATH=/nowhere/temporal-test-server is not an executable file');
});

test('an executable on PATH is found before the cache', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipewright-servers-'));
  writeFileSync(join(dir, 'temporal-test-server'), '#!/bin/sh\n');
  chmodSync(join(dir, 'temporal-test-server'), 0o755);
  delete process.env.TEMPORAL_TEST_SERVER_PATH;
  process.env.PATH = `${dir}:${saved.PATH}`;
  expect(await resolver().ensureServer('test-server')).toBe(join(dir, 'temporal-test-server'));
});

test('the cache is found when nothing else is', async () => {
  delete process.env.TEMPORAL_CLI_PATH;
  process.env.PATH = mkdtempSync(join(tmpdir(), 'pipewright-empty-path-'));
  const { ensureServer, cacheDir } = resolver();
  expect(await ensureServer('dev-server')).toBe(join(cacheDir(), 'bin', 'temporal'));
});
