/**
 * Producers for the local data plane: what puts data onto it, for `npm run local` and the
 * end-to-end suites alike. Each refuses loudly when the server refused part of a batch,
 * so a run never counts records that never went in.
 */
import { PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import type { LocalDataPlane } from "./data-plane";
import type { SampleOrder } from "./sample-data";

/** PutRecords takes at most 500 records; SendMessageBatch at most 10 messages. */
const PUT_RECORDS_LIMIT = 500;
const SEND_MESSAGE_BATCH_LIMIT = 10;
/** Rows per INSERT: 4 parameters each, well inside PostgreSQL's 65,535. */
const ORDERS_PER_INSERT = 500;

/** Puts payloads onto the plane's stream, spread over 16 partition keys. */
export async function putOnStream(plane: LocalDataPlane, payloads: readonly string[]): Promise<void> {
  for (let i = 0; i < payloads.length; i += PUT_RECORDS_LIMIT) {
    const records = payloads.slice(i, i + PUT_RECORDS_LIMIT).map((payload, index) => ({ PartitionKey: `producer-${(i + index) % 16}`, Data: Buffer.from(payload) }));
    const put = await plane.clients.kinesis.send(new PutRecordsCommand({ StreamName: plane.names.stream, Records: records }));
    if ((put.FailedRecordCount ?? 0) > 0) throw new Error(`${put.FailedRecordCount} records were refused by the stream`);
  }
}

/** Sends message bodies to the plane's ingest queue. */
export async function sendToQueue(plane: LocalDataPlane, bodies: readonly string[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += SEND_MESSAGE_BATCH_LIMIT) {
    const entries = bodies.slice(i, i + SEND_MESSAGE_BATCH_LIMIT).map((body, index) => ({ Id: String(index), MessageBody: body }));
    const sent = await plane.clients.sqs.send(new SendMessageBatchCommand({ QueueUrl: plane.queueUrls.ingest, Entries: entries }));
    if ((sent.Failed ?? []).length > 0) throw new Error(`${sent.Failed!.length} messages were refused by the queue`);
  }
}

/** Writes orders into Aurora's stand-in (`sales.orders`), as the ordering application does; an order already there is left alone. */
export async function insertOrders(plane: LocalDataPlane, orders: readonly SampleOrder[]): Promise<void> {
  for (let i = 0; i < orders.length; i += ORDERS_PER_INSERT) {
    const slice = orders.slice(i, i + ORDERS_PER_INSERT);
    const placeholders = slice.map((_, index) => `($${index * 4 + 1}, $${index * 4 + 2}, $${index * 4 + 3}, $${index * 4 + 4})`).join(", ");
    const values = slice.flatMap((order) => [order.orderId, order.branch, order.amount, order.orderedAt]);
    await plane.query("oltp", `INSERT INTO sales.orders (order_id, branch_code, amount, ordered_at) VALUES ${placeholders} ON CONFLICT DO NOTHING`, values);
  }
}
