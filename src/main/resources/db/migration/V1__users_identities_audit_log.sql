-- Users, their WeChat identities, and the audit log. Later capabilities add tables in new versions.

CREATE TABLE users (
    id            uuid        PRIMARY KEY,
    nickname      text,
    avatar_url    text,
    phone         text,
    unionid       text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz,
    login_count   integer     NOT NULL DEFAULT 0
);

-- Account linking looks users up by these; they are not unique because a connection with
-- accountLinking.mode = none keeps separate accounts for the same person.
CREATE INDEX users_unionid ON users (unionid) WHERE unionid IS NOT NULL;
CREATE INDEX users_phone ON users (phone) WHERE phone IS NOT NULL;

CREATE TABLE identities (
    id             bigserial   PRIMARY KEY,
    user_id        uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    connection     text        NOT NULL,
    wechat_app_id  text        NOT NULL,
    openid         text        NOT NULL,
    unionid        text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    -- One WeChat user of one connection is one identity: concurrent first logins collide here.
    CONSTRAINT identities_connection_openid UNIQUE (connection, openid)
);

CREATE INDEX identities_user ON identities (user_id);
CREATE INDEX identities_unionid ON identities (unionid) WHERE unionid IS NOT NULL;

CREATE TABLE audit_log (
    id          bigserial   PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    event       text        NOT NULL,   -- login, login_refused, token_revoked, profile_updated, ...
    outcome     text        NOT NULL,   -- success, refused, failed
    user_id     uuid,
    app_id      text,
    connection  text,
    client_ip   text,
    detail      jsonb       NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX audit_log_user_at ON audit_log (user_id, at);
CREATE INDEX audit_log_at ON audit_log (at);
