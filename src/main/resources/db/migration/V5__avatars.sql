-- Avatar images uploaded by the mini program (POST /api/v1/miniprogram/avatar), stored here so
-- that every gateway instance can serve them (GET /api/v1/avatars/{id}.{ext}). The bytes were
-- checked to be PNG, JPEG or WebP by their magic number; content_type is what that check found.
-- The id is random and the row never changes, so the URL can be cached for a long time.
CREATE TABLE avatars (
    id            text        PRIMARY KEY,
    content_type  text        NOT NULL,
    image         bytea       NOT NULL,
    -- who uploaded it: "user:<id>" (bearer token) or "scan:<appId>:<connection>" (a scanning phone)
    uploaded_by   text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
