-- Namespaces and API keys (access control); mirrors storage/sqlite/migrations/0004_auth.sql.

-- A namespace must exist before anything names it. retention is stored now and enforced
-- later; zero keeps finished runs forever.
CREATE TABLE stepline_namespaces (
    namespace_id text PRIMARY KEY,
    description text NOT NULL DEFAULT '',
    retention interval NOT NULL DEFAULT '0 seconds',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- `default` always exists, and so does every namespace runs were started in before.
INSERT INTO stepline_namespaces (namespace_id) VALUES ('default');
INSERT INTO stepline_namespaces (namespace_id)
SELECT DISTINCT namespace_id FROM stepline_workflow_runs
ON CONFLICT (namespace_id) DO NOTHING;

-- API keys: only the SHA-256 of the secret is kept. namespace_id is a namespace or '*'
-- (an operator key, valid in every namespace), so it has no foreign key.
CREATE TABLE stepline_api_keys (
    key_id text PRIMARY KEY,
    namespace_id text NOT NULL,
    name text NOT NULL,
    role text NOT NULL CHECK (role IN ('reader', 'client', 'worker', 'admin')),
    secret_sha256 bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz
);

CREATE INDEX stepline_api_keys_by_namespace ON stepline_api_keys (namespace_id, created_at);
