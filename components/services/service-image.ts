import * as aws from "@pulumi/aws";
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { CpuArchitecture } from "../lib/fargate";
import { contentHash } from "../lib/content-hash";

export interface ServiceImageArgs {
  /** The folder under services/ holding the service's code and Dockerfile, e.g. "aggregator". */
  service: string;
  /** The build context: the repository root (the bundle imports functions/). */
  contextDir: string;
  /** Files and folders (relative to contextDir) the image is built from; their content hash is the tag. @default imageInputs(service) */
  inputs?: string[];
  /** Customer key the repository encrypts images with. */
  kmsKeyArn: pulumi.Input<string>;
  /** @default "ARM64" */
  cpuArchitecture?: CpuArchitecture;
  /** Tagged images kept; older ones expire. @default 20 */
  keepTaggedImages?: number;
  /** Days an untagged image (a failed push's layers) is kept. @default 7 */
  untaggedExpiryDays?: number;
  /** Delete the repository with its images on `pulumi destroy`. @default false */
  forceDelete?: boolean;
  /** @default true */
  protect?: boolean;
}

/** What a service image is built from: its folder, the shared service code, the functions/ its bundle imports, the bundler and the lockfile. */
export function imageInputs(service: string): string[] {
  return [`services/${service}`, "services/shared", "functions", "scripts/service-bundle.ts", "scripts/engine.ts", "package.json", "package-lock.json", "tsconfig.json", ".dockerignore"];
}

/** ECR's lifecycle policy: untagged images expire after some days, and only the newest tagged ones are kept. */
export function lifecyclePolicy(keepTaggedImages: number, untaggedExpiryDays: number): string {
  return JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: `Untagged images expire after ${untaggedExpiryDays} days`,
        selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: untaggedExpiryDays },
        action: { type: "expire" },
      },
      {
        rulePriority: 2,
        description: `Keep the newest ${keepTaggedImages} images`,
        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keepTaggedImages },
        action: { type: "expire" },
      },
    ],
  });
}

/**
 * One service's image: an ECR repository (immutable tags, scan on push, the platform
 * key, a lifecycle policy) and the image built at deploy time from the service's
 * Dockerfile with the repository root as context, pushed with the registry's
 * credentials. The tag is a hash of the build inputs, so an unchanged service is not
 * rebuilt under a new tag and a changed one never collides with an immutable tag.
 * Tasks reference `imageRef`, the repository URL with the pushed digest.
 */
export class ServiceImage extends pulumi.ComponentResource {
  readonly repository: aws.ecr.Repository;
  readonly repositoryUrl: pulumi.Output<string>;
  readonly repositoryArn: pulumi.Output<string>;
  readonly tag: string;
  readonly digest: pulumi.Output<string>;
  /** `repositoryUrl@sha256:…` */
  readonly imageRef: pulumi.Output<string>;

  constructor(name: string, args: ServiceImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dataplatform:services:ServiceImage", name, {}, opts);
    this.repository = new aws.ecr.Repository(`${name}-repository`, {
      name,
      imageTagMutability: "IMMUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: args.kmsKeyArn }],
      forceDelete: args.forceDelete ?? false,
    }, { parent: this, protect: args.protect ?? true });
    new aws.ecr.LifecyclePolicy(`${name}-lifecycle`, {
      repository: this.repository.name,
      policy: lifecyclePolicy(args.keepTaggedImages ?? 20, args.untaggedExpiryDays ?? 7),
    }, { parent: this });

    this.tag = contentHash(args.contextDir, args.inputs ?? imageInputs(args.service)).slice(0, 32);
    const credentials = aws.ecr.getAuthorizationTokenOutput({ registryId: this.repository.registryId }, { parent: this });
    const image = new dockerBuild.Image(`${name}-image`, {
      context: { location: args.contextDir },
      dockerfile: { location: path.join(args.contextDir, "services", args.service, "Dockerfile") },
      platforms: [(args.cpuArchitecture ?? "ARM64") === "ARM64" ? "linux/arm64" : "linux/amd64"],
      tags: [pulumi.interpolate`${this.repository.repositoryUrl}:${this.tag}`],
      push: true,
      registries: [{
        address: this.repository.repositoryUrl,
        username: credentials.userName,
        password: pulumi.secret(credentials.password),
      }],
      // A preview needs no Docker daemon; the build happens on `pulumi up`.
      buildOnPreview: false,
    }, { parent: this });

    this.repositoryUrl = this.repository.repositoryUrl;
    this.repositoryArn = this.repository.arn;
    this.digest = image.digest;
    this.imageRef = pulumi.interpolate`${this.repository.repositoryUrl}@${image.digest}`;
    this.registerOutputs({ repositoryUrl: this.repositoryUrl, repositoryArn: this.repositoryArn, tag: this.tag, imageRef: this.imageRef });
  }
}
