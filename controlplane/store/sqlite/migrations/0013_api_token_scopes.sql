-- The scopes of an API token, separated by spaces. Tokens made before
-- scopes existed keep everything their role allows: "*".
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT '*';
