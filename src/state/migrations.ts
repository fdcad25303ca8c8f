/**
 * Numbered, append-only migrations of the state machine's tables. Never edit a shipped entry:
 * add a new one. Version N is the N-th string.
 */
export const STATE_MIGRATIONS: readonly string[] = [
  /* 1: hosts, jobs, output, idempotency records, and the applied index */ `
  CREATE TABLE state_meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) STRICT;
  INSERT INTO state_meta (key, value) VALUES ('last_applied', 0);

  CREATE TABLE hosts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    capabilities TEXT NOT NULL,              -- JSON array, sorted
    slots INTEGER NOT NULL,
    version TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'draining', 'lost')),
    registered_at INTEGER NOT NULL,
    last_heartbeat_at INTEGER NOT NULL,
    drain_requested_at INTEGER               -- kept apart from state: a lost host that returns still drains
  ) STRICT;

  -- Distinct requirement sets seen so far. Claims match a host against these few rows instead
  -- of testing every queued job's requirements.
  CREATE TABLE requirement_sets (
    id INTEGER PRIMARY KEY,
    requires TEXT NOT NULL UNIQUE            -- JSON array, sorted
  ) STRICT;

  CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY,                 -- enqueue order: FIFO within a priority
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('shell', 'openclaw')),
    spec TEXT NOT NULL,                      -- JSON JobSpec
    requirement_set INTEGER NOT NULL REFERENCES requirement_sets (id),
    priority INTEGER NOT NULL,
    timeout_ms INTEGER,
    state TEXT NOT NULL CHECK (state IN ('queued', 'leased', 'succeeded', 'failed', 'cancelled', 'dead')),
    attempt INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    retry_on_failure INTEGER NOT NULL,
    backoff_ms INTEGER NOT NULL,
    host_id TEXT,
    lease_expires_at INTEGER,
    available_at INTEGER NOT NULL,
    cancel_requested_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    finished_at INTEGER,
    result TEXT,                             -- JSON JobResult of the last finished attempt
    last_error TEXT,
    output_seq INTEGER NOT NULL DEFAULT 0,
    output_bytes INTEGER NOT NULL DEFAULT 0,
    output_truncated INTEGER NOT NULL DEFAULT 0,
    output_marker_seq INTEGER                -- seq of the truncation marker: head before it, rolling tail after
  ) STRICT;
  CREATE INDEX jobs_queue ON jobs (requirement_set, priority DESC, seq) WHERE state = 'queued';
  CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE state = 'leased';
  CREATE INDEX jobs_by_host ON jobs (host_id) WHERE state = 'leased';
  CREATE INDEX jobs_by_state ON jobs (state, seq);

  CREATE TABLE job_output (
    job_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    stream TEXT NOT NULL,
    data TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (job_id, seq)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE idempotency_records (
    key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    result TEXT NOT NULL,                    -- JSON CommandResult replayed for the same request
    expires_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX idempotency_expiry ON idempotency_records (expires_at);
  `,
  /* 2: the submitter's signature of a job, stored as given */ `
  ALTER TABLE jobs ADD COLUMN signature TEXT;  -- JSON JobSignature {publicKey, value}, or NULL when unsigned
  `,
  /* 3: roles: each host's credential (hashed), host revocation, the submitter of each job */ `
  ALTER TABLE hosts ADD COLUMN credential_hash TEXT;  -- sha256 hex of the host's credential; NULL when it has none
  ALTER TABLE hosts ADD COLUMN revoked_at INTEGER;    -- set by revokeHost: the id never acts or registers again
  CREATE UNIQUE INDEX hosts_by_credential ON hosts (credential_hash) WHERE credential_hash IS NOT NULL;

  ALTER TABLE jobs ADD COLUMN submitter TEXT;         -- label of the submit key that enqueued it; NULL for admin or open
  CREATE INDEX jobs_by_submitter ON jobs (submitter, seq) WHERE submitter IS NOT NULL;
  `,
  /* 4: idempotency records are pruned oldest first in insertion (rowid) order, which needs no index */ `
  DROP INDEX idempotency_expiry;
  `,
];
