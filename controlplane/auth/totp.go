package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // G505: RFC 6238 TOTP as authenticator apps implement it uses HMAC-SHA1
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// TOTP parameters every authenticator app accepts (RFC 6238 defaults).
const (
	totpDigits  = 6
	totpPeriod  = 30 * time.Second
	totpSkew    = 1 // steps accepted on either side, for clock drift
	totpKeySize = 20
)

// totpEncoding is the unpadded base32 authenticator apps read.
var totpEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewTOTPSecret returns a random TOTP key in base32.
func NewTOTPSecret() (string, error) {
	key := make([]byte, totpKeySize)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("generate totp secret: %w", err)
	}
	return totpEncoding.EncodeToString(key), nil
}

// TOTPURL returns the otpauth:// URL authenticator apps import, usually
// through a QR code.
func TOTPURL(issuer, account, secret string) string {
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", issuer)
	v.Set("algorithm", "SHA1")
	v.Set("digits", fmt.Sprint(totpDigits))
	v.Set("period", fmt.Sprint(int(totpPeriod.Seconds())))
	return "otpauth://totp/" + url.PathEscape(issuer+":"+account) + "?" + v.Encode()
}

// totpCode returns the code of one time step (RFC 4226 dynamic
// truncation).
func totpCode(key []byte, step uint64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], step)
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	offset := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[offset:offset+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", totpDigits, v%1_000_000)
}

// verifyTOTP checks code against the steps around now and returns the
// step it matched. A step at or below lastStep was used already and is
// refused, so an observed code cannot be replayed.
func verifyTOTP(secret, code string, now time.Time, lastStep uint64) (uint64, bool) {
	key, err := totpEncoding.DecodeString(secret)
	if err != nil || len(code) != totpDigits {
		return 0, false
	}
	current := uint64(now.Unix()) / uint64(totpPeriod.Seconds()) //nolint:gosec // G115: times after 1970
	matched, ok := uint64(0), false
	for d := -totpSkew; d <= totpSkew; d++ {
		step := current + uint64(int64(d)) //nolint:gosec // G115: wraps back for negative d as intended
		if subtle.ConstantTimeCompare([]byte(totpCode(key, step)), []byte(code)) == 1 && step > lastStep {
			matched, ok = step, true
		}
	}
	return matched, ok
}

// TOTPIssuer names DECNET in authenticator apps.
const TOTPIssuer = "DECNET"

// Errors of TOTP enrollment.
var (
	ErrTOTPNotPending  = errors.New("no TOTP enrollment in progress: call BeginTotpEnrollment first")
	ErrTOTPCode        = errors.New("the TOTP code is wrong or was used already")
	ErrTOTPNotEnabled  = errors.New("TOTP is not enabled for this user")
	ErrTOTPEnrollFirst = errors.New("admins must enroll a TOTP authenticator before anything else")
	// ErrChangePasswordFirst refuses changes by a user who still has a
	// password someone else chose.
	ErrChangePasswordFirst = errors.New("change your password first: until then this session can only read")
	ErrTOTPWithAPIToken    = errors.New("TOTP is managed with a login session, not an API token")
)

// BeginTOTPEnrollment creates a pending TOTP key for the session's user
// and returns it with its otpauth URL. An active key stays active until
// the new one is confirmed.
func (a *Authenticator) BeginTOTPEnrollment(ctx context.Context, s Session) (secret, otpURL string, err error) {
	if s.APITokenID != "" {
		return "", "", ErrTOTPWithAPIToken
	}
	u, err := a.store.GetUser(ctx, s.Username)
	if err != nil {
		return "", "", err
	}
	if secret, err = NewTOTPSecret(); err != nil {
		return "", "", err
	}
	if err := a.store.SetUserTOTP(ctx, s.Username, u.TOTPSecret, secret); err != nil {
		return "", "", err
	}
	return secret, TOTPURL(TOTPIssuer, s.Username, secret), nil
}

// ConfirmTOTPEnrollment activates the pending key when code matches it.
func (a *Authenticator) ConfirmTOTPEnrollment(ctx context.Context, s Session, code Secret) error {
	u, err := a.store.GetUser(ctx, s.Username)
	if err != nil {
		return err
	}
	if u.TOTPPending == "" {
		return ErrTOTPNotPending
	}
	step, ok := verifyTOTP(u.TOTPPending, code.Reveal(), a.now(), 0)
	if !ok {
		return ErrTOTPCode
	}
	if err := a.store.SetUserTOTP(ctx, s.Username, u.TOTPPending, ""); err != nil {
		return err
	}
	if _, err := a.store.UseTOTPStep(ctx, s.Username, step); err != nil {
		return err
	}
	a.log.Info().Str(fieldUser, s.Username).Msg("totp enabled")
	return nil
}

// DisableTOTP turns the session user's TOTP off after checking a code.
func (a *Authenticator) DisableTOTP(ctx context.Context, s Session, code Secret) error {
	u, err := a.store.GetUser(ctx, s.Username)
	if err != nil {
		return err
	}
	if u.TOTPSecret == "" {
		return ErrTOTPNotEnabled
	}
	step, ok := verifyTOTP(u.TOTPSecret, code.Reveal(), a.now(), u.TOTPLastStep)
	if ok {
		if ok, err = a.store.UseTOTPStep(ctx, s.Username, step); err != nil {
			return err
		}
	}
	if !ok {
		return ErrTOTPCode
	}
	if err := a.store.SetUserTOTP(ctx, s.Username, "", ""); err != nil {
		return err
	}
	a.log.Info().Str(fieldUser, s.Username).Msg("totp disabled")
	return nil
}

// ResetTOTP turns another user's TOTP off and ends their sessions, for a
// lost device.
func (a *Authenticator) ResetTOTP(ctx context.Context, username string) error {
	u, err := a.store.GetUser(ctx, username)
	if err != nil {
		return err
	}
	if err := a.store.SetUserTOTP(ctx, username, "", ""); err != nil {
		return err
	}
	return a.store.SetUserPassword(ctx, username, u.PasswordHash, u.MustChangePassword, nil)
}

// enrollmentProcedures are what a session that must enroll TOTP may call.
var enrollmentProcedures = map[string]bool{
	"/decnet.api.v1.UserService/GetCurrentUser":        true,
	"/decnet.api.v1.UserService/ChangePassword":        true,
	"/decnet.api.v1.UserService/BeginTotpEnrollment":   true,
	"/decnet.api.v1.UserService/ConfirmTotpEnrollment": true,
	"/decnet.api.v1.AuthService/Logout":                true,
}

// TOTPCode returns the code of secret at time t, as an authenticator app
// shows it.
func TOTPCode(secret string, t time.Time) (string, error) {
	key, err := totpEncoding.DecodeString(secret)
	if err != nil {
		return "", fmt.Errorf("decode totp secret: %w", err)
	}
	return totpCode(key, uint64(t.Unix())/uint64(totpPeriod.Seconds())), nil //nolint:gosec // G115: times after 1970
}
