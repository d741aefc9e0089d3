import GRDB

/// The store's schema, as named migrations. A migration that has shipped is never edited:
/// changes come as new migrations appended here.
enum SQLiteMigrations {
  static var migrator: DatabaseMigrator {
    var m = DatabaseMigrator()
    m.registerMigration("v1-vault") { db in
      try db.execute(
        sql: """
          CREATE TABLE vault_meta (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            vault_id TEXT NOT NULL,
            format INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            key_check TEXT NOT NULL
          );
          CREATE TABLE recipients (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL CHECK (kind IN ('passphrase', 'x25519')),
            name TEXT NOT NULL,
            public_key TEXT,
            wrapped_key BLOB,
            wrap_nonce BLOB,
            salt BLOB,
            ops_limit INTEGER,
            mem_limit INTEGER,
            added_at TEXT NOT NULL,
            removed_at TEXT
          );
          CREATE UNIQUE INDEX recipients_active_public_key
            ON recipients(public_key) WHERE removed_at IS NULL AND public_key IS NOT NULL;
          CREATE TABLE secrets (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            environment TEXT NOT NULL,
            service TEXT NOT NULL,
            key TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (environment, service, key)
          );
          CREATE TABLE secret_versions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            secret_id INTEGER NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            state TEXT NOT NULL,
            created_at TEXT NOT NULL,
            source TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            nonce BLOB NOT NULL,
            ciphertext BLOB NOT NULL,
            UNIQUE (secret_id, version)
          );
          CREATE INDEX secret_versions_by_state ON secret_versions(secret_id, state);
          CREATE TABLE audit_log (
            seq INTEGER PRIMARY KEY,
            time TEXT NOT NULL,
            actor_user TEXT NOT NULL,
            actor_recipient TEXT,
            action TEXT NOT NULL,
            subject TEXT,
            version INTEGER,
            fingerprint TEXT,
            detail TEXT,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            mac TEXT NOT NULL
          );
          """)
    }
    // Issue 5: what `sync` pushed where (GitHub never gives values back), each Fly app's secrets
    // version after hotsecrets' last bulk update, and the version each machine was restarted with.
    m.registerMigration("v2-push-ledger") { db in
      try db.execute(
        sql: """
          CREATE TABLE push_ledger (
            environment TEXT NOT NULL,
            target TEXT NOT NULL,
            name TEXT NOT NULL,
            service TEXT NOT NULL,
            key TEXT NOT NULL,
            version INTEGER NOT NULL,
            fingerprint TEXT NOT NULL,
            pushed_at TEXT NOT NULL,
            remote_updated_at TEXT,
            PRIMARY KEY (environment, target, name)
          );
          CREATE TABLE target_state (
            environment TEXT NOT NULL,
            target TEXT NOT NULL,
            secrets_version INTEGER,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (environment, target)
          );
          CREATE TABLE machine_state (
            environment TEXT NOT NULL,
            target TEXT NOT NULL,
            machine TEXT NOT NULL,
            secrets_version INTEGER NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (environment, target, machine)
          );
          """)
    }
    // Issue 6: the rotation journal (one row per run, one per key and run, each step recorded
    // before the next begins) and the providers' ids of the credentials they minted.
    m.registerMigration("v3-rotation") { db in
      try db.execute(
        sql: """
          CREATE TABLE rotation_runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            environment TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            actor_user TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('running', 'completed', 'failed', 'rolled-back')),
            step TEXT NOT NULL,
            deploy TEXT NOT NULL,
            revoke_old TEXT NOT NULL,
            error TEXT
          );
          CREATE UNIQUE INDEX rotation_runs_one_unfinished ON rotation_runs(environment) WHERE state = 'running';
          CREATE TABLE rotation_items (
            run_id INTEGER NOT NULL REFERENCES rotation_runs(id),
            position INTEGER NOT NULL,
            service TEXT NOT NULL,
            key TEXT NOT NULL,
            mode TEXT NOT NULL,
            single_phase INTEGER NOT NULL,
            old_version INTEGER,
            new_version INTEGER,
            old_credential_id TEXT,
            new_credential_id TEXT,
            state TEXT NOT NULL,
            revocation TEXT,
            new_revocation TEXT,
            error TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (run_id, service, key)
          );
          CREATE TABLE credential_ids (
            environment TEXT NOT NULL,
            service TEXT NOT NULL,
            key TEXT NOT NULL,
            version INTEGER NOT NULL,
            credential_id TEXT NOT NULL,
            PRIMARY KEY (environment, service, key, version)
          );
          """)
    }
    // Issue 7: the vault's Ed25519 signing key for audit checkpoints. One row, created on first
    // use: the public key in the clear (base64), the 32-byte seed sealed like a value.
    m.registerMigration("v4-audit-checkpoints") { db in
      try db.execute(
        sql: """
          CREATE TABLE signing_key (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            public_key TEXT NOT NULL,
            nonce BLOB NOT NULL,
            ciphertext BLOB NOT NULL,
            created_at TEXT NOT NULL
          );
          """)
    }
    // Issue 13: re-keying (key epochs and the keyring that carries the fingerprint key and earlier
    // audit keys), passphrase recipients that hold an X25519 key pair (re-wrappable from their public
    // half), each secret's authenticated current state (head) and each environment's set of secrets,
    // which secret versions a removed recipient could have read, and the MAC over the recipients
    // and those exposures.
    m.registerMigration("v5-rekey-heads-exposures") { db in
      try db.execute(
        sql: """
          ALTER TABLE vault_meta ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE vault_meta ADD COLUMN keyring_nonce BLOB;
          ALTER TABLE vault_meta ADD COLUMN keyring BLOB;
          ALTER TABLE vault_meta ADD COLUMN recipients_mac BLOB;
          ALTER TABLE recipients ADD COLUMN secret_nonce BLOB;
          ALTER TABLE recipients ADD COLUMN sealed_secret BLOB;
          ALTER TABLE secrets ADD COLUMN head_version INTEGER;
          ALTER TABLE secrets ADD COLUMN head_exposed TEXT NOT NULL DEFAULT '';
          ALTER TABLE secrets ADD COLUMN head_mac BLOB;
          CREATE TABLE environment_heads (
            environment TEXT PRIMARY KEY,
            secrets INTEGER NOT NULL,
            digest TEXT NOT NULL,
            mac TEXT NOT NULL
          );
          CREATE TABLE exposures (
            recipient_id INTEGER NOT NULL REFERENCES recipients(id),
            secret_id INTEGER NOT NULL REFERENCES secrets(id),
            version INTEGER NOT NULL,
            PRIMARY KEY (recipient_id, secret_id, version)
          );
          CREATE INDEX exposures_by_version ON exposures(secret_id, version);
          """)
    }
    return m
  }
}
