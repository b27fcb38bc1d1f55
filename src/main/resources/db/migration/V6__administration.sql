-- Administration (CONTRACT section 11): blocked users, the last login of each identity, and the
-- indexes the admin search, its keyset pagination and the audit log's filters use.
--
-- Search is by exact value (id, phone, unionid, openid) or by nickname prefix (case-insensitive);
-- every branch is a plain btree lookup, so it stays fast with millions of users without pg_trgm
-- (an extension that is not always available). Substring search inside nicknames is not offered.

ALTER TABLE users ADD COLUMN blocked_at timestamptz;
ALTER TABLE identities ADD COLUMN last_login_at timestamptz;

-- Listing: newest first, cursor = (created_at, id).
CREATE INDEX users_created_id ON users (created_at DESC, id DESC);
-- Nickname prefix search: lower(nickname) LIKE 'prefix%' (text_pattern_ops works in any collation).
CREATE INDEX users_nickname_prefix ON users (lower(nickname) text_pattern_ops) WHERE nickname IS NOT NULL;
-- openid alone (the unique constraint's index starts with connection).
CREATE INDEX identities_openid ON identities (openid);

-- The audit log is read newest first by id (cursor = the last id), filtered by user or type.
CREATE INDEX audit_log_user_id ON audit_log (user_id, id DESC);
CREATE INDEX audit_log_event_id ON audit_log (event, id DESC);
-- Refresh tokens of a user (log out everywhere, block).
CREATE INDEX refresh_tokens_user_active ON refresh_tokens (user_id) WHERE revoked_at IS NULL;
