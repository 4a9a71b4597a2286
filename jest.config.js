/** Tests evaluate the real Pulumi program under the SDK's mock engine and run handlers against local servers. */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testTimeout: 120000,
  // Each file evaluates whole stacks; two workers match the machine's two cores.
  maxWorkers: 2,
  globalSetup: "<rootDir>/tests/support/global-setup.js",
  globalTeardown: "<rootDir>/tests/support/global-teardown.js",
  reporters: ["<rootDir>/tests/support/summary-reporter.js", "default"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: { isolatedModules: true } }] },
};
