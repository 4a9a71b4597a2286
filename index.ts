/**
 * The Pulumi program `pulumi up --stack dev|prod` runs. The stage config is validated
 * first: a bad stack file stops here, naming every bad key, before any resource exists.
 */
import { loadStageConfig } from "./config";
import { definePlatform } from "./platform";

export = async () => definePlatform(loadStageConfig());
