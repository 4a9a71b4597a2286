/**
 * One directory per test run where evaluations of the real program are shared between
 * jest workers (tests/support/evaluation-cache.ts). It is new for every run, so nothing
 * evaluated by an earlier run, with other sources, can be read back.
 */
const fs = require("fs");
const os = require("os");
const path = require("path");

module.exports = async () => {
  process.env.DP_EVALUATION_CACHE = fs.mkdtempSync(path.join(os.tmpdir(), "dp-evaluations-"));
};
