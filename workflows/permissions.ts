/** IAM statement shapes the workflows' permission functions return, and the statement both need for encrypted topics. */

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Action: string[];
  readonly Resource: string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

export interface AccountContext {
  readonly accountId: string;
  /** @default "aws" */
  readonly partition?: string;
  /**
   * Customer KMS keys of the topics the workflow publishes to: publishing to an SSE-KMS
   * topic needs kms:GenerateDataKey* and kms:Decrypt on its key
   * (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html). @default [] (unencrypted topics)
   */
  readonly topicKeyArns?: readonly string[];
}

/** The KMS statement for publishing to encrypted topics (through SNS only), or none when no key is given. */
export function topicKeyStatements(sid: string, region: string, account: AccountContext): PolicyStatement[] {
  const keys = [...new Set(account.topicKeyArns ?? [])];
  if (keys.length === 0) return [];
  return [{ Sid: sid, Effect: "Allow", Action: ["kms:GenerateDataKey*", "kms:Decrypt"], Resource: keys, Condition: { StringEquals: { "kms:ViaService": `sns.${region}.amazonaws.com` } } }];
}
