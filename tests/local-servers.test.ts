/** local/servers.ts: what the move added to the starters (s3rver's notification events, a clear refusal without redis-server). */
import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { LocalS3, S3rverEventRecord, requireRedisServer, startS3rver } from "../local/servers";
import { s3Client } from "./support/aws-emulators";

describe("local servers", () => {
  it("refuses to start Redis without redis-server, naming the package to install", () => {
    expect(() => requireRedisServer("/nonexistent/redis-server")).toThrow("/nonexistent/redis-server is missing: Redis for local runs and tests is Debian's redis-server (apt-get install redis-server)");
  });

  describe("s3rver", () => {
    let server: LocalS3;
    beforeAll(async () => {
      server = await startS3rver(["lake"]);
    });
    afterAll(() => server.stop());

    it("reports each object created or deleted to onEvent, with the key as stored", async () => {
      const events: S3rverEventRecord[] = [];
      server.onEvent((record) => events.push(record));
      const s3 = s3Client(server);

      await s3.send(new PutObjectCommand({ Bucket: "lake", Key: "api/a b ü.jsonl", Body: "{}" }));
      await s3.send(new DeleteObjectCommand({ Bucket: "lake", Key: "api/a b ü.jsonl" }));
      s3.destroy();

      expect(events.map((record) => [record.eventName, record.s3.bucket.name, record.s3.object.key, record.s3.object.size])).toEqual([
        ["ObjectCreated:Put", "lake", "api/a b ü.jsonl", 2],
        ["ObjectRemoved:Delete", "lake", "api/a b ü.jsonl", undefined],
      ]);
    });
  });
});
