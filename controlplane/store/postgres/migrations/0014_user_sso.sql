-- Users created by single sign-on log in only through their identity
-- provider; their role follows its claims at every login.
ALTER TABLE users ADD COLUMN sso boolean NOT NULL DEFAULT false;
