/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // tsconfig's isolatedModules makes ts-jest transpile only; `npm test` type-checks with tsc first.
  transform: { '^.+\\.ts$': 'ts-jest' },
  // Obtains the Temporal servers once, with progress, before any test file needs them.
  globalSetup: '<rootDir>/test/support/globalSetup.ts',
  testTimeout: 120_000,
  reporters: ['default', '<rootDir>/test/support/summaryReporter.js'],
  // Each workflow test file starts its own Temporal server and worker: on 2 cores, two at a time.
  maxWorkers: 2,
};
