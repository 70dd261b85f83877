-- Namespaces and API keys (access control); mirrors storage/postgres/migrations/0004_auth.sql.

-- A namespace must exist before anything names it. retention (microseconds) is stored
-- now and enforced later; zero keeps finished runs forever.
CREATE TABLE stepline_namespaces (
    namespace_id TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    retention INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER))
);

-- `default` always exists, and so does every namespace runs were started in before.
INSERT INTO stepline_namespaces (namespace_id) VALUES ('default');
INSERT INTO stepline_namespaces (namespace_id)
SELECT DISTINCT namespace_id FROM stepline_workflow_runs
WHERE true
ON CONFLICT (namespace_id) DO NOTHING;

-- API keys: only the SHA-256 of the secret is kept. namespace_id is a namespace or '*'
-- (an operator key, valid in every namespace), so it has no foreign key.
CREATE TABLE stepline_api_keys (
    key_id TEXT PRIMARY KEY,
    namespace_id TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('reader', 'client', 'worker', 'admin')),
    secret_sha256 BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);

CREATE INDEX stepline_api_keys_by_namespace ON stepline_api_keys (namespace_id, created_at);
