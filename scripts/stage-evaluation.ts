/**
 * Offline evaluation of a stack together with its partner, in the order `pulumi up`
 * converges them from empty (README, Disaster recovery → Deploy order):
 *   1. the primary, before its DR stack has outputs (no replication links yet);
 *   2. the DR stack, reading the primary's outputs through its StackReference;
 *   3. the primary again, now reading the DR stack's outputs (the links appear).
 * A primary's plan is step 3, a DR stack's plan step 2. A stage without DR, or whose
 * partner has no stack file here, is evaluated on its own.
 */
import * as fs from "fs";
import * as path from "path";
import { partnerStackName, shortStackName, validateStageConfig } from "../config";
import { DEFAULT_ORGANIZATION, EvaluateOptions, PROJECT_DIR, StackEvaluation, evaluateStack, readProjectName, readStackConfig } from "./engine";

export interface StageEvaluation {
  /** The stack asked for, converged. */
  readonly evaluation: StackEvaluation;
  /** Its partner as the converged run saw it (undefined without DR). */
  readonly partner?: StackEvaluation;
}

export interface StageEvaluateOptions extends Pick<EvaluateOptions, "program"> {
  /** How each stack is evaluated (tests share evaluations between workers). @default evaluateStack */
  readonly evaluate?: (stack: string, options: EvaluateOptions) => Promise<StackEvaluation>;
  /** Raw config of the stack; defaults to Pulumi.<stack>.yaml. */
  readonly config?: Record<string, string>;
  /** Raw config of the partner; defaults to its stack file. */
  readonly partnerConfig?: Record<string, string>;
}

export async function evaluateStage(stack: string, options: StageEvaluateOptions = {}): Promise<StageEvaluation> {
  const project = readProjectName();
  const raw = options.config ?? readStackConfig(stack);
  // A bad stack file is refused here, before anything is evaluated, as `pulumi up` would.
  const config = validateStageConfig(raw, `Pulumi.${stack}.yaml`);
  const evaluate = options.evaluate ?? evaluateStack;
  const own = (stackReferences: Record<string, Record<string, unknown>>) => evaluate(stack, { config: raw, program: options.program, stackReferences });
  if (!config.drEnabled) return { evaluation: await own({}) };

  const partnerQualified = partnerStackName(config, DEFAULT_ORGANIZATION, project);
  const partner = shortStackName(partnerQualified);
  const partnerRaw = options.partnerConfig ?? (fs.existsSync(path.join(PROJECT_DIR, `Pulumi.${partner}.yaml`)) ? readStackConfig(partner) : undefined);
  if (partnerRaw === undefined) return { evaluation: await own({}) };
  const evaluatePartner = (stackReferences: Record<string, Record<string, unknown>>) => evaluate(partner, { config: partnerRaw, stackReferences });

  if (config.stackRole === "dr") {
    const primary = await evaluatePartner({});
    return { evaluation: await own({ [partnerQualified]: primary.outputs }), partner: primary };
  }
  // The name the DR stack's own StackReference reads this primary under.
  const primaryAsPartnerSees = partnerStackName(validateStageConfig(partnerRaw, `Pulumi.${partner}.yaml`), DEFAULT_ORGANIZATION, project);
  const firstPass = await own({});
  const standby = await evaluatePartner({ [primaryAsPartnerSees]: firstPass.outputs });
  return { evaluation: await own({ [partnerQualified]: standby.outputs }), partner: standby };
}
