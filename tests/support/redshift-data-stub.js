/**
 * The Redshift Data API has no local server, so its client is stubbed at the client level
 * (aws-sdk-client-mock) with a statement that moves through the real status values a
 * test lists (SUBMITTED, PICKED, STARTED, then FINISHED, FAILED or ABORTED; the last one
 * repeats). Plain JavaScript so that a shipped handler's process can preload it: with
 * REDSHIFT_DATA_STUB set (the script as JSON) requiring this file installs the stub, so
 * the handler's own `new RedshiftDataClient({})` talks to it.
 */
const { mockClient } = require("aws-sdk-client-mock");
const {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  RedshiftDataClient,
} = require("@aws-sdk/client-redshift-data");

/**
 * @param {{ statementId: string, statuses: object[] }} script  DescribeStatement answers in order
 * @returns the aws-sdk-client-mock stub (its calls record every command sent)
 */
function installRedshiftDataStub(script) {
  const stub = mockClient(RedshiftDataClient);
  let described = 0;
  stub.on(BatchExecuteStatementCommand).resolves({ Id: script.statementId });
  stub.on(DescribeStatementCommand).callsFake(({ Id }) => {
    const answer = script.statuses[Math.min(described++, script.statuses.length - 1)];
    return { Id, ...answer };
  });
  stub.on(CancelStatementCommand).resolves({ Status: true });
  return stub;
}

if (process.env.REDSHIFT_DATA_STUB) installRedshiftDataStub(JSON.parse(process.env.REDSHIFT_DATA_STUB));

module.exports = { installRedshiftDataStub, REDSHIFT_DATA_STUB_PATH: __filename };
