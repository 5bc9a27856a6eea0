-- hush's PostgreSQL schema, version 1. Applied once per schema by Open, under hush's
-- advisory lock, inside one transaction. Never edit a migration that has shipped: add the
-- next file instead.
--
-- Conventions:
-- * record: the whole record as hush's JSON encoding, type json (text kept verbatim), not
--   jsonb: jsonb reformats embedded raw JSON (an outbox payload would not read back
--   byte for byte) and refuses the \u0000 escape that vendor text may carry. Queries never
--   look inside it; everything they filter or sort on has its own column.
-- * *_ns: instants as Unix nanoseconds (clamped to the int64 range, as bbolt's keys are):
--   timestamptz keeps only microseconds, and listings must order ties exactly as bbolt.
-- * customer_id columns are authoritative: a merge moves records with one UPDATE and the
--   store sets the field from the column when it reads a record back.
-- * Key and sort columns use the "C" collation: byte order, like bbolt's keys.

CREATE TABLE deliveries (
    source text COLLATE "C" NOT NULL,
    id     text COLLATE "C" NOT NULL,
    at_ns  bigint NOT NULL,
    PRIMARY KEY (source, id)
);
CREATE INDEX deliveries_at ON deliveries (at_ns);

CREATE TABLE customers (
    id     text COLLATE "C" PRIMARY KEY,
    record json NOT NULL
);

-- identity → customer: an identity belongs to at most one customer.
CREATE TABLE identities (
    identity    text COLLATE "C" PRIMARY KEY,
    customer_id text COLLATE "C" NOT NULL
);
CREATE INDEX identities_customer ON identities (customer_id);

-- Events: seq is unique across the store (hush_event_seq); the raw payload has its own
-- column so that listings never read it.
CREATE SEQUENCE hush_event_seq;
CREATE TABLE events (
    customer_id text COLLATE "C" NOT NULL,
    seq         bigint NOT NULL,
    at_ns       bigint NOT NULL,
    record      json NOT NULL,
    raw         bytea,
    PRIMARY KEY (customer_id, seq)
);
CREATE INDEX events_customer_at ON events (customer_id, at_ns, seq);
CREATE INDEX events_at ON events (at_ns);

CREATE TABLE silences (
    id          text COLLATE "C" PRIMARY KEY,
    customer_id text COLLATE "C" NOT NULL,
    start_ns    bigint NOT NULL,
    end_ns      bigint,          -- NULL: open-ended (or waiting for its topic)
    lifted_ns   bigint,          -- NULL: not lifted
    rule        text COLLATE "C" NOT NULL,
    topic       text COLLATE "C" NOT NULL,
    record      json NOT NULL
);
CREATE INDEX silences_start ON silences (start_ns, id);
CREATE INDEX silences_customer_start ON silences (customer_id, start_ns, id);

CREATE TABLE optouts (
    id          text COLLATE "C" PRIMARY KEY,
    customer_id text COLLATE "C" NOT NULL,
    created_ns  bigint NOT NULL,
    active      boolean NOT NULL,
    record      json NOT NULL
);
CREATE INDEX optouts_created ON optouts (created_ns, id);
CREATE INDEX optouts_customer_created ON optouts (customer_id, created_ns, id);

CREATE TABLE incidents (
    id          text COLLATE "C" PRIMARY KEY,
    opened_ns   bigint NOT NULL,
    open        boolean NOT NULL,
    source      text COLLATE "C" NOT NULL,
    external_id text COLLATE "C" NOT NULL,
    record      json NOT NULL
);
CREATE INDEX incidents_opened ON incidents (opened_ns, id);

CREATE TABLE decisions (
    id          text COLLATE "C" PRIMARY KEY,
    customer_id text COLLATE "C" NOT NULL, -- '' for recipients hush does not know
    at_ns       bigint NOT NULL,
    record      json NOT NULL
);
CREATE INDEX decisions_at ON decisions (at_ns, id);
CREATE INDEX decisions_customer_at ON decisions (customer_id, at_ns, id);

-- Contacts: cap counters, counted by customer, time, channel and category.
CREATE TABLE contacts (
    id          text COLLATE "C" PRIMARY KEY,
    customer_id text COLLATE "C" NOT NULL,
    at_ns       bigint NOT NULL,
    channel     text COLLATE "C" NOT NULL,
    category    text COLLATE "C" NOT NULL,
    record      json NOT NULL
);
CREATE INDEX contacts_customer_at ON contacts (customer_id, at_ns) INCLUDE (channel, category);
CREATE INDEX contacts_at ON contacts (at_ns);

CREATE TABLE dead_letters (
    id          text COLLATE "C" PRIMARY KEY,
    received_ns bigint NOT NULL,
    record      json NOT NULL
);
CREATE INDEX dead_letters_received ON dead_letters (received_ns, id);

-- Outbox: state is 'pending', 'delivered' or 'dead' (gateway.OutboxMessage.State); the
-- dispatcher polls the pending ones, an operator looks for the dead ones.
CREATE TABLE outbox (
    id         text COLLATE "C" PRIMARY KEY,
    created_ns bigint NOT NULL,
    state      text NOT NULL,
    next_ns    bigint NOT NULL,
    record     json NOT NULL
);
CREATE INDEX outbox_created ON outbox (created_ns, id);
CREATE INDEX outbox_pending ON outbox (created_ns, id) WHERE state = 'pending';
CREATE INDEX outbox_dead ON outbox (created_ns, id) WHERE state = 'dead';

CREATE TABLE suppression_entries (
    upstream    text COLLATE "C" NOT NULL,
    address     text COLLATE "C" NOT NULL,
    customer_id text COLLATE "C" NOT NULL,
    record      json NOT NULL,
    PRIMARY KEY (upstream, address)
);
CREATE INDEX suppression_entries_customer ON suppression_entries (upstream, customer_id, address);

-- The change feed (gateway.ChangeFeed): one row per commit that touched customers or
-- incidents, numbered in commit order (rows are written under hush's advisory lock).
CREATE TABLE hush_changes (
    version   bigserial PRIMARY KEY,
    origin    text NOT NULL,
    customers text[] NOT NULL,
    incidents boolean NOT NULL,
    at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX hush_changes_at ON hush_changes (at);

-- The highest version pruning removed: a reader behind it missed changes and must reload.
CREATE TABLE hush_changes_horizon (
    only_row       boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    pruned_through bigint NOT NULL
);
INSERT INTO hush_changes_horizon (pruned_through) VALUES (0);
