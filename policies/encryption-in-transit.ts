/**
 * Encryption in transit for the data stores. Aurora and Redshift enforce TLS through
 * parameter groups, which are separate resources the cluster names, so those two are
 * stack policies; ElastiCache carries its settings on the replication group itself.
 * (S3's TLS-only bucket policies are in s3.ts.)
 */
import * as aws from "@pulumi/aws";
import { PolicyResource, validateResourceOfType } from "@pulumi/policy";
import { ofTypes, referencedResources } from "./lib/correlate";
import { PlatformResourcePolicy, PlatformStackPolicy } from "./lib/policy";
import { UNKNOWN, asArray, isSet, isTrue, peek } from "./lib/values";

interface NamedParameter {
  name: string;
  value: unknown;
}

/** The value a parameter group sets for `name` (names compare case-insensitively, as AWS does). */
function parameterValue(group: PolicyResource, name: string): string | undefined {
  const parameter = asArray<NamedParameter>(group.props.parameters).find((p) => p.name?.toLowerCase() === name);
  return parameter === undefined ? undefined : String(parameter.value);
}

/** The TLS-enforcing parameter for an RDS engine, and the values that turn it on. */
function tlsParameterFor(engine: string | undefined): { name: string; accepted: string[] } {
  return /mysql|mariadb/.test(engine ?? "")
    ? { name: "require_secure_transport", accepted: ["1", "on", "ON"] }
    : { name: "rds.force_ssl", accepted: ["1"] };
}

const parameterGroupIdentifiers = (group: PolicyResource) => [peek(() => group.props.name), peek(() => group.props.id)];

/** Checks that `database.props[groupProperty]` names a parameter group of the stack that enforces TLS. */
function checkTlsParameterGroup(database: PolicyResource, groupProperty: string, groups: PolicyResource[], report: (message: string, urn?: string) => void) {
  const { name, accepted } = tlsParameterFor(database.props.engine);
  const [group] = referencedResources(database, groupProperty, groups, { identifiersOf: parameterGroupIdentifiers });
  if (group === undefined) {
    report(`${database.name} does not use a parameter group of this stack, so ${name} keeps the engine default.`, database.urn);
    return;
  }
  const value = parameterValue(group, name);
  if (!accepted.includes(value ?? "")) report(`${database.name} uses parameter group ${group.name}, where ${name} is ${value ?? "unset"} (needs ${accepted[0]}).`, database.urn);
}

export const rdsForceSsl: PlatformStackPolicy = {
  name: "rds-force-ssl",
  description: "Aurora clusters and standalone RDS instances refuse unencrypted connections: their parameter group sets rds.force_ssl = 1 (PostgreSQL) or require_secure_transport = ON (MySQL).",
  enforcementLevel: "mandatory",
  remediationSteps:
    'Create an aws.rds.ClusterParameterGroup (aws.rds.ParameterGroup for an instance) for the engine family with parameters [{ name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" }] and pass its name as dbClusterParameterGroupName (parameterGroupName). Global secondaries need their own group in the DR region.',
  validateStack: (args, report) => {
    const clusterGroups = ofTypes(args.resources, ["aws:rds/clusterParameterGroup:ClusterParameterGroup"]);
    const instanceGroups = ofTypes(args.resources, ["aws:rds/parameterGroup:ParameterGroup"]);
    for (const cluster of ofTypes(args.resources, ["aws:rds/cluster:Cluster"])) {
      checkTlsParameterGroup(cluster, "dbClusterParameterGroupName", clusterGroups, report);
    }
    const standalone = ofTypes(args.resources, ["aws:rds/instance:Instance"]).filter((i) => !isSet(peek(() => i.props.replicateSourceDb)));
    for (const instance of standalone) checkTlsParameterGroup(instance, "parameterGroupName", instanceGroups, report);
  },
};

const REQUIRE_SSL_KEYS = ["require_ssl", "requireSsl"];

export const redshiftRequireSsl: PlatformStackPolicy = {
  name: "redshift-require-ssl",
  description: "Redshift refuses unencrypted connections: require_ssl = true in the cluster's parameter group, or in a serverless workgroup's configParameters.",
  enforcementLevel: "mandatory",
  remediationSteps:
    'Provisioned: create an aws.redshift.ParameterGroup with parameters [{ name: "require_ssl", value: "true" }] and pass its name as clusterParameterGroupName. Serverless: add { parameterKey: "require_ssl", parameterValue: "true" } to the workgroup\'s configParameters.',
  validateStack: (args, report) => {
    const groups = ofTypes(args.resources, ["aws:redshift/parameterGroup:ParameterGroup"]);
    for (const cluster of ofTypes(args.resources, ["aws:redshift/cluster:Cluster"])) {
      const [group] = referencedResources(cluster, "clusterParameterGroupName", groups, { identifiersOf: parameterGroupIdentifiers });
      const value = group ? parameterValue(group, "require_ssl") : undefined;
      if (group === undefined) report(`Cluster ${cluster.name} uses the default parameter group, where require_ssl is false.`, cluster.urn);
      else if (!isTrue(value)) report(`Cluster ${cluster.name} uses parameter group ${group.name}, where require_ssl is ${value ?? "unset"}.`, cluster.urn);
    }
    for (const workgroup of ofTypes(args.resources, ["aws:redshiftserverless/workgroup:Workgroup"])) {
      const setting = asArray<{ parameterKey: string; parameterValue: string }>(workgroup.props.configParameters).find((p) => REQUIRE_SSL_KEYS.includes(p.parameterKey));
      if (!isTrue(setting?.parameterValue)) report(`Workgroup ${workgroup.name} does not set require_ssl to true in configParameters.`, workgroup.urn);
    }
  },
};

export const elasticacheTransitEncryption: PlatformResourcePolicy = {
  name: "elasticache-transit-encryption-and-auth",
  description: "ElastiCache replication groups require TLS (transitEncryptionEnabled, mode required) and authenticate clients with an AUTH token or RBAC user group.",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Set transitEncryptionEnabled: true (leave transitEncryptionMode unset or \"required\") and authToken from a generated secret (16-128 characters, no @ \" /), or userGroupIds for RBAC.",
  validateResource: validateResourceOfType(aws.elasticache.ReplicationGroup, (group, _args, report) => {
    if (!isTrue(group.transitEncryptionEnabled)) report("transitEncryptionEnabled is not true.");
    else if (group.transitEncryptionMode === "preferred") report('transitEncryptionMode is "preferred", which still accepts plain-text clients.');
    const userGroups = peek(() => group.userGroupIds);
    const authenticated = [peek(() => group.authToken), peek(() => group.authTokenWoVersion)].some(isSet) || userGroups === UNKNOWN || asArray(userGroups).length > 0;
    if (!authenticated) report("No authToken and no userGroupIds: any client that reaches the port may run commands.");
  }),
};

export const encryptionInTransitPolicies: (PlatformResourcePolicy | PlatformStackPolicy)[] = [rdsForceSsl, redshiftRequireSsl, elasticacheTransitEncryption];
