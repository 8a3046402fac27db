-- A user created with a password someone else chose (the first admin, or
-- an account an admin created) must change it at the first login.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
