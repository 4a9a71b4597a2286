/** Tests evaluate the real Pulumi program under the SDK's mock engine and run handlers against local servers. */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testTimeout: 120000,
  // Two cores. Three workers, because the end-to-end suites (e2e-*, local-run) spend most of
  // their time waiting on pollers, visibility timeouts and SDK back-off: measured 2026-12-02,
  // the whole run took 4 min 21 s with three workers and 5 min 0 s with two.
  maxWorkers: 3,
  globalSetup: "<rootDir>/tests/support/global-setup.js",
  globalTeardown: "<rootDir>/tests/support/global-teardown.js",
  reporters: ["<rootDir>/tests/support/summary-reporter.js", "default"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: { isolatedModules: true } }] },
};
