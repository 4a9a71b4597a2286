/** What Firehose writes under the raw `stream/` prefix (the words of the firehoseFormat config key). */
export type StreamObjectFormat = "GZIP" | "PARQUET";

/** The event columns every lake zone shares, with the camelCase JSON keys producers send. */
export const EVENT_COLUMNS = [
  { name: "event_id", type: "string", jsonKey: "eventId" },
  { name: "source", type: "string", jsonKey: "source" },
  { name: "entity_id", type: "string", jsonKey: "entityId" },
  { name: "event_type", type: "string", jsonKey: "eventType" },
  { name: "occurred_at", type: "string", jsonKey: "occurredAt" },
  { name: "payload", type: "string", jsonKey: "payload" },
] as const;

/** Column → JSON key, for the OpenX JSON SerDe (Athena) and Firehose's record format conversion. */
export function eventColumnJsonKeys(): Record<string, string> {
  return Object.fromEntries(EVENT_COLUMNS.filter((c) => c.name !== c.jsonKey).map((c) => [c.name, c.jsonKey]));
}
