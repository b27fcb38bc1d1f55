-- Token signing keys and refresh tokens.

-- Every instance signs with the newest key and verifies with all published ones. The private key
-- is AES-256-GCM encrypted (12-byte nonce || ciphertext+tag, kid as associated data) under a key
-- derived from tokens.keyEncryptionKey; the public half is stored as a JWK.
CREATE TABLE signing_keys (
    kid              text        PRIMARY KEY,
    alg              text        NOT NULL,
    public_jwk       jsonb       NOT NULL,
    private_key_enc  bytea       NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX signing_keys_created ON signing_keys (created_at);

-- Opaque refresh tokens, stored only as SHA-256 hashes. Each use rotates the token: the used row
-- gets rotated_at and a new row joins the same family. A rotated token presented again means it
-- was copied, and the whole family is revoked.
CREATE TABLE refresh_tokens (
    token_hash        text        PRIMARY KEY,
    family_id         uuid        NOT NULL,
    user_id           uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    app_id            text        NOT NULL,
    scope             text        NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    rotated_at        timestamptz,
    revoked_at        timestamptz,
    -- the access token issued alongside, revoked with the family
    access_jti        text,
    access_expires_at timestamptz
);

CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
