-- A retried refresh (two tabs, a lost response) within tokens.refreshReuseInterval gets the same
-- successor. The rotated row keeps the successor's hash and the successor itself, AES-256-GCM
-- encrypted under a key derived from the presented (rotated) token, which is stored only as a
-- hash: the database alone cannot recover any usable refresh token.
ALTER TABLE refresh_tokens
    ADD COLUMN successor_hash text,
    ADD COLUMN successor_enc  bytea;
