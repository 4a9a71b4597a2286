const fs = require("fs");

/**
 * Prints one plain closing line ("tests: N passed, N failed, N skipped") as the very
 * last line of a jest run, so CI logs state the outcome in a runner-neutral form.
 * Jest prints its own summary after every reporter has run, hence the exit hook.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const line = `tests: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`;
    process.once("exit", () => fs.writeSync(2, line));
  }
}
module.exports = SummaryReporter;
