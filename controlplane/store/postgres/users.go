package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/decnet/decnet/controlplane/store"
)

// CreateUser returns store.ErrExists when the name is taken.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	tag, err := s.pool.Exec(ctx, `INSERT INTO users (username, password_hash, role, created_at, must_change_password, sso)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (username) DO NOTHING`,
		u.Username, u.PasswordHash, u.Role, u.CreatedAt, u.MustChangePassword, u.SSO)
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.Username, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("create user %q: %w", u.Username, store.ErrExists)
	}
	return nil
}

// GetUser returns store.ErrNotFound for an unknown name.
func (s *Store) GetUser(ctx context.Context, username string) (store.User, error) {
	var (
		u       store.User
		created time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT username, password_hash, role, created_at, must_change_password, totp_secret, totp_pending, totp_last_step, sso FROM users WHERE username = $1`,
		username).Scan(&u.Username, &u.PasswordHash, &u.Role, &created, &u.MustChangePassword, &u.TOTPSecret, &u.TOTPPending, &u.TOTPLastStep, &u.SSO)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.User{}, fmt.Errorf("get user %q: %w", username, store.ErrNotFound)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("get user %q: %w", username, err)
	}
	u.CreatedAt = created.UTC()
	return u, nil
}

// CountUsers returns the number of users.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// CreateAPISession stores a session and deletes the sessions that expired
// by its creation time, so the table does not grow without bound.
func (s *Store) CreateAPISession(ctx context.Context, sess store.APISession) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM api_sessions WHERE expires_at <= $1`, sess.CreatedAt); err != nil {
			return fmt.Errorf("delete expired api sessions: %w", err)
		}
		tag, err := tx.Exec(ctx, `INSERT INTO api_sessions (token_hash, username, created_at, expires_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT (token_hash) DO NOTHING`,
			sess.TokenHash, sess.Username, sess.CreatedAt, sess.ExpiresAt)
		if err != nil {
			return fmt.Errorf("create api session for %q: %w", sess.Username, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("create api session for %q: %w", sess.Username, store.ErrExists)
		}
		return nil
	})
}

// GetAPISession returns store.ErrNotFound for an unknown hash or a session
// expired at now.
func (s *Store) GetAPISession(ctx context.Context, tokenHash []byte, now time.Time) (store.APISession, error) {
	var (
		sess             store.APISession
		created, expires time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT token_hash, username, created_at, expires_at
		FROM api_sessions WHERE token_hash = $1 AND expires_at > $2`, tokenHash, now).
		Scan(&sess.TokenHash, &sess.Username, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.APISession{}, fmt.Errorf("get api session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.APISession{}, fmt.Errorf("get api session: %w", err)
	}
	sess.CreatedAt = created.UTC()
	sess.ExpiresAt = expires.UTC()
	return sess, nil
}

// GetSessionUser returns a live session and its user with one query.
func (s *Store) GetSessionUser(ctx context.Context, tokenHash []byte, now time.Time) (store.APISession, store.User, error) {
	var (
		sess                     store.APISession
		u                        store.User
		created, expires, userAt time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT s.token_hash, s.created_at, s.expires_at,
		u.username, u.password_hash, u.role, u.created_at, u.must_change_password, u.totp_secret, u.totp_pending, u.totp_last_step, u.sso
		FROM api_sessions s JOIN users u ON u.username = s.username
		WHERE s.token_hash = $1 AND s.expires_at > $2`, tokenHash, now).
		Scan(&sess.TokenHash, &created, &expires,
			&u.Username, &u.PasswordHash, &u.Role, &userAt, &u.MustChangePassword, &u.TOTPSecret, &u.TOTPPending, &u.TOTPLastStep, &u.SSO)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.APISession{}, store.User{}, fmt.Errorf("get session user: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.APISession{}, store.User{}, fmt.Errorf("get session user: %w", err)
	}
	sess.Username = u.Username
	sess.CreatedAt, sess.ExpiresAt, u.CreatedAt = created.UTC(), expires.UTC(), userAt.UTC()
	return sess, u, nil
}

// DeleteAPISession deletes the session; deleting an unknown one is not an
// error, so logging out twice succeeds.
func (s *Store) DeleteAPISession(ctx context.Context, tokenHash []byte) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM api_sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("delete api session: %w", err)
	}
	return nil
}

// ListUsers returns every user by name.
func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	rows, err := s.pool.Query(ctx, `SELECT username, password_hash, role, created_at, must_change_password, totp_secret, totp_pending, totp_last_step, sso FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		var u store.User
		if err := rows.Scan(&u.Username, &u.PasswordHash, &u.Role, &u.CreatedAt, &u.MustChangePassword, &u.TOTPSecret, &u.TOTPPending, &u.TOTPLastStep, &u.SSO); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		u.CreatedAt = u.CreatedAt.UTC()
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// SetUserRole changes a user's role.
func (s *Store) SetUserRole(ctx context.Context, username, role string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE users SET role = $1 WHERE username = $2`, role, username)
	if err != nil {
		return fmt.Errorf("set role of user %q: %w", username, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set role of user %q: %w", username, store.ErrNotFound)
	}
	return nil
}

// SetUserPassword replaces the password and ends the user's other
// sessions in one transaction.
func (s *Store) SetUserPassword(ctx context.Context, username, passwordHash string, mustChange bool, keep []byte) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $1, must_change_password = $2 WHERE username = $3`,
			passwordHash, mustChange, username)
		if err != nil {
			return fmt.Errorf("set password of user %q: %w", username, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("set password of user %q: %w", username, store.ErrNotFound)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM api_sessions WHERE username = $1 AND token_hash IS DISTINCT FROM $2`, username, keep); err != nil {
			return fmt.Errorf("end sessions of user %q: %w", username, err)
		}
		return nil
	})
}

// DeleteUser deletes a user; their sessions go with them (ON DELETE
// CASCADE).
func (s *Store) DeleteUser(ctx context.Context, username string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM users WHERE username = $1`, username)
	if err != nil {
		return fmt.Errorf("delete user %q: %w", username, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete user %q: %w", username, store.ErrNotFound)
	}
	return nil
}

// SetUserTOTP stores the user's TOTP keys and resets the last step.
func (s *Store) SetUserTOTP(ctx context.Context, username, secret, pending string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE users SET totp_secret = $1, totp_pending = $2, totp_last_step = 0 WHERE username = $3`,
		secret, pending, username)
	if err != nil {
		return fmt.Errorf("set totp of user %q: %w", username, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set totp of user %q: %w", username, store.ErrNotFound)
	}
	return nil
}

// UseTOTPStep records a later TOTP step and reports whether it was later.
func (s *Store) UseTOTPStep(ctx context.Context, username string, step uint64) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE users SET totp_last_step = $1 WHERE username = $2 AND totp_last_step < $1`,
		int64(step), username) //nolint:gosec // G115: time steps fit in int64
	if err != nil {
		return false, fmt.Errorf("use totp step of user %q: %w", username, err)
	}
	return tag.RowsAffected() == 1, nil
}
