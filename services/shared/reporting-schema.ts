/**
 * The reporting schema: what the aggregator writes (through Aurora's writer endpoint) and
 * the client API reads (through the reporting custom endpoint, as reporting_reader).
 * Idempotent: every statement can run again on every aggregator start.
 * The read contract (the client API and the dashboard depend on these columns):
 * reporting.daily_branch_sales(branch_code, sales_day, orders, revenue, updated_at)
 * reporting.manifest_loads(manifest_key, loaded_at, events, newest_event_at)
 *
 * A TypeScript module rather than a .sql file, so the service bundles (esbuild) and the
 * tests (ts-jest) import the same text with no loader.
 */
export const REPORTING_SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS reporting;

-- One row per order event, keyed by the event id: a manifest applied twice, or an event
-- staged twice, upserts the same row, so the sums below never count an order twice.
CREATE TABLE IF NOT EXISTS reporting.order_facts (
  event_id      text PRIMARY KEY,
  branch_code   text NOT NULL,
  sales_day     date NOT NULL,
  amount        numeric(14,2) NOT NULL,
  occurred_at   timestamptz NOT NULL,
  manifest_key  text NOT NULL
);
CREATE INDEX IF NOT EXISTS order_facts_branch_day ON reporting.order_facts (branch_code, sales_day);

-- The shape non-technical readers use: one row per branch and day, recomputed from
-- order_facts for the (branch, day) pairs a manifest touched, in the same transaction.
CREATE TABLE IF NOT EXISTS reporting.daily_branch_sales (
  branch_code   text NOT NULL,
  sales_day     date NOT NULL,
  orders        integer NOT NULL,
  revenue       numeric(14,2) NOT NULL,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (branch_code, sales_day)
);

-- One row per applied manifest: pipeline health (last load, lag) reads it.
CREATE TABLE IF NOT EXISTS reporting.manifest_loads (
  manifest_key     text PRIMARY KEY,
  loaded_at        timestamptz NOT NULL,
  events           integer NOT NULL,
  newest_event_at  timestamptz
);

-- The client API's database user: read-only, IAM database authentication on Aurora
-- (rds-db:connect on this user only), never the master secret. rds_iam exists on Aurora
-- only; locally the tests give the role a password instead.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reporting_reader') THEN
    CREATE ROLE reporting_reader LOGIN;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam') THEN
    GRANT rds_iam TO reporting_reader;
  END IF;
END $$;
GRANT USAGE ON SCHEMA reporting TO reporting_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO reporting_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA reporting GRANT SELECT ON TABLES TO reporting_reader;
-- Server-side bounds besides the client's own statement timeout.
ALTER ROLE reporting_reader SET default_transaction_read_only = on;
ALTER ROLE reporting_reader SET statement_timeout = '5s';
`;

/** The database user the client API connects as (IAM database authentication on Aurora). */
export const REPORTING_READER = "reporting_reader";
