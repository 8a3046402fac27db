package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/decnet/decnet/controlplane/store"
)

// CreateUser returns store.ErrExists when the name is taken.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	r, err := s.write.ExecContext(ctx, `INSERT INTO users (username, password_hash, role, created_at, must_change_password, sso)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING`,
		u.Username, u.PasswordHash, u.Role, u.CreatedAt.UnixNano(), u.MustChangePassword, u.SSO)
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.Username, err)
	}
	if n, err := r.RowsAffected(); err != nil {
		return fmt.Errorf("create user %q: %w", u.Username, err)
	} else if n == 0 {
		return fmt.Errorf("create user %q: %w", u.Username, store.ErrExists)
	}
	return nil
}

// GetUser returns store.ErrNotFound for an unknown name.
func (s *Store) GetUser(ctx context.Context, username string) (store.User, error) {
	var (
		u       store.User
		created int64
	)
	err := s.read.QueryRowContext(ctx, `SELECT username, password_hash, role, created_at, must_change_password, totp_secret, totp_pending, totp_last_step, sso FROM users WHERE username = ?`,
		username).Scan(&u.Username, &u.PasswordHash, &u.Role, &created, &u.MustChangePassword, &u.TOTPSecret, &u.TOTPPending, &u.TOTPLastStep, &u.SSO)
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, fmt.Errorf("get user %q: %w", username, store.ErrNotFound)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("get user %q: %w", username, err)
	}
	u.CreatedAt = time.Unix(0, created).UTC()
	return u, nil
}

// CountUsers returns the number of users.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// CreateAPISession stores a session and deletes the sessions that expired
// by its creation time, so the table does not grow without bound.
func (s *Store) CreateAPISession(ctx context.Context, sess store.APISession) error {
	return s.inWriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM api_sessions WHERE expires_at <= ?`, sess.CreatedAt.UnixNano()); err != nil {
			return fmt.Errorf("delete expired api sessions: %w", err)
		}
		r, err := tx.ExecContext(ctx, `INSERT INTO api_sessions (token_hash, username, created_at, expires_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (token_hash) DO NOTHING`,
			sess.TokenHash, sess.Username, sess.CreatedAt.UnixNano(), sess.ExpiresAt.UnixNano())
		if err != nil {
			return fmt.Errorf("create api session for %q: %w", sess.Username, err)
		}
		if n, err := r.RowsAffected(); err != nil {
			return fmt.Errorf("create api session for %q: %w", sess.Username, err)
		} else if n == 0 {
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
		created, expires int64
	)
	err := s.read.QueryRowContext(ctx, `SELECT token_hash, username, created_at, expires_at
		FROM api_sessions WHERE token_hash = ? AND expires_at > ?`, tokenHash, now.UnixNano()).
		Scan(&sess.TokenHash, &sess.Username, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.APISession{}, fmt.Errorf("get api session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.APISession{}, fmt.Errorf("get api session: %w", err)
	}
	sess.CreatedAt = time.Unix(0, created).UTC()
	sess.ExpiresAt = time.Unix(0, expires).UTC()
	return sess, nil
}

// GetSessionUser returns a live session and its user with one query.
func (s *Store) GetSessionUser(ctx context.Context, tokenHash []byte, now time.Time) (store.APISession, store.User, error) {
	var (
		sess                     store.APISession
		u                        store.User
		created, expires, userAt int64
	)
	err := s.read.QueryRowContext(ctx, `SELECT s.token_hash, s.created_at, s.expires_at,
		u.username, u.password_hash, u.role, u.created_at, u.must_change_password, u.totp_secret, u.totp_pending, u.totp_last_step, u.sso
		FROM api_sessions s JOIN users u ON u.username = s.username
		WHERE s.token_hash = ? AND s.expires_at > ?`, tokenHash, now.UnixNano()).
		Scan(&sess.TokenHash, &created, &expires,
			&u.Username, &u.PasswordHash, &u.Role, &userAt, &u.MustChangePassword, &u.TOTPSecret, &u.TOTPPending, &u.TOTPLastStep, &u.SSO)
	if errors.Is(err, sql.ErrNoRows) {
		return store.APISession{}, store.User{}, fmt.Errorf("get session user: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.APISession{}, store.User{}, fmt.Errorf("get session user: %w", err)
	}
	sess.Username = u.Username
	sess.CreatedAt, sess.ExpiresAt, u.CreatedAt = time.Unix(0, created).UTC(), time.Unix(0, expires).UTC(), time.Unix(0, userAt).UTC()
	return sess, u, nil
}

// DeleteAPISession deletes the session; deleting an unknown one is not an
// error, so logging out twice succeeds.
func (s *Store) DeleteAPISession(ctx context.Context, tokenHash []byte) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM api_sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("delete api session: %w", err)
	}
	return nil
}

// ListUsers returns every user by name.
func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT username, password_hash, role, created_at, must_change_password, totp_secret, totp_pending, totp_last_step, sso FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		var (
			u       store.User
			created int64
		)
		if err := rows.Scan(&u.Username, &u.PasswordHash, &u.Role, &created, &u.MustChangePassword, &u.TOTPSecret, &u.TOTPPending, &u.TOTPLastStep, &u.SSO); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		u.CreatedAt = time.Unix(0, created).UTC()
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// SetUserRole changes a user's role.
func (s *Store) SetUserRole(ctx context.Context, username, role string) error {
	r, err := s.write.ExecContext(ctx, `UPDATE users SET role = ? WHERE username = ?`, role, username)
	if err != nil {
		return fmt.Errorf("set role of user %q: %w", username, err)
	}
	return affectedOne(r, fmt.Sprintf("set role of user %q", username))
}

// SetUserPassword replaces the password and ends the user's other
// sessions in one transaction.
func (s *Store) SetUserPassword(ctx context.Context, username, passwordHash string, mustChange bool, keep []byte) error {
	return s.inWriteTx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, must_change_password = ? WHERE username = ?`,
			passwordHash, mustChange, username)
		if err != nil {
			return fmt.Errorf("set password of user %q: %w", username, err)
		}
		if err := affectedOne(r, fmt.Sprintf("set password of user %q", username)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM api_sessions WHERE username = ? AND token_hash IS NOT ?`, username, keep); err != nil {
			return fmt.Errorf("end sessions of user %q: %w", username, err)
		}
		return nil
	})
}

// DeleteUser deletes a user and their sessions.
func (s *Store) DeleteUser(ctx context.Context, username string) error {
	return s.inWriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM api_sessions WHERE username = ?`, username); err != nil {
			return fmt.Errorf("delete user %q: %w", username, err)
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM users WHERE username = ?`, username)
		if err != nil {
			return fmt.Errorf("delete user %q: %w", username, err)
		}
		return affectedOne(r, fmt.Sprintf("delete user %q", username))
	})
}

// affectedOne returns store.ErrNotFound when r changed no row.
func affectedOne(r sql.Result, what string) error {
	n, err := r.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}

// SetUserTOTP stores the user's TOTP keys and resets the last step.
func (s *Store) SetUserTOTP(ctx context.Context, username, secret, pending string) error {
	r, err := s.write.ExecContext(ctx, `UPDATE users SET totp_secret = ?, totp_pending = ?, totp_last_step = 0 WHERE username = ?`,
		secret, pending, username)
	if err != nil {
		return fmt.Errorf("set totp of user %q: %w", username, err)
	}
	return affectedOne(r, fmt.Sprintf("set totp of user %q", username))
}

// UseTOTPStep records a later TOTP step and reports whether it was later.
func (s *Store) UseTOTPStep(ctx context.Context, username string, step uint64) (bool, error) {
	r, err := s.write.ExecContext(ctx, `UPDATE users SET totp_last_step = ? WHERE username = ? AND totp_last_step < ?`,
		step, username, step)
	if err != nil {
		return false, fmt.Errorf("use totp step of user %q: %w", username, err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("use totp step of user %q: %w", username, err)
	}
	return n == 1, nil
}
