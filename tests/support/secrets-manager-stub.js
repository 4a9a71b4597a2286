/**
 * Secrets Manager has no local server, so a shipped handler's client is stubbed at the
 * client level (aws-sdk-client-mock). Plain JavaScript so that a shipped handler's process
 * can preload it: with SECRETS_MANAGER_STUB_FILE set (a JSON file mapping secret ARN to
 * secret string, written by the test into its temp dir, so no secret value is ever in the
 * environment) requiring this file installs the stub; an unknown ARN fails as Secrets
 * Manager does, with ResourceNotFoundException.
 */
const fs = require("fs");
const { mockClient } = require("aws-sdk-client-mock");
const { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } = require("@aws-sdk/client-secrets-manager");

/** @param {Record<string, string>} secrets  secret ARN → SecretString */
function installSecretsManagerStub(secrets) {
  const stub = mockClient(SecretsManagerClient);
  stub.on(GetSecretValueCommand).callsFake(({ SecretId }) => {
    if (!(SecretId in secrets)) throw new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} });
    return { ARN: SecretId, SecretString: secrets[SecretId] };
  });
  return stub;
}

if (process.env.SECRETS_MANAGER_STUB_FILE) installSecretsManagerStub(JSON.parse(fs.readFileSync(process.env.SECRETS_MANAGER_STUB_FILE, "utf8")));

module.exports = { installSecretsManagerStub, SECRETS_MANAGER_STUB_PATH: __filename };
