package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	// Memory in KiB.
	Memory  uint32
	Time    uint32
	Threads uint8
}

// DefaultParams returns OWASP's argon2id baseline (Password Storage Cheat
// Sheet): 19 MiB, 2 passes, 1 lane. RFC 9106's 64 MiB option would make
// every concurrent login hold 64 MiB, which a small control plane pays for
// in resident memory long after the login.
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Time: 2, Threads: 1}
}

// Bounds on parameters read back from a stored hash, so that a corrupted
// or hostile users table cannot make one login take gigabytes or minutes.
const (
	maxMemoryKiB = 1024 * 1024
	maxTime      = 16
	saltBytes    = 16
	keyBytes     = 32
)

// ErrMalformedHash is returned for a stored hash that is not an argon2id
// string in PHC format.
var ErrMalformedHash = errors.New("malformed argon2id hash")

// HashPassword returns the argon2id hash of password in PHC string format
// ($argon2id$v=19$m=...,t=...,p=...$salt$hash) with DefaultParams and a
// random salt.
func HashPassword(password Secret) (string, error) {
	return HashPasswordWithParams(password, DefaultParams())
}

// HashPasswordWithParams is HashPassword with explicit costs; tests use
// cheap ones.
func HashPasswordWithParams(password Secret, p Params) (string, error) {
	if p.Memory == 0 || p.Time == 0 || p.Threads == 0 {
		return "", fmt.Errorf("hash password: invalid argon2id parameters %+v", p)
	}
	salt := make([]byte, saltBytes)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: read salt: %w", err)
	}
	key := argon2.IDKey([]byte(password.Reveal()), salt, p.Time, p.Memory, p.Threads, keyBytes)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches encoded, a hash from
// HashPassword. The comparison takes constant time in the hash bytes.
func VerifyPassword(encoded string, password Secret) (bool, error) {
	p, salt, want, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password.Reveal()), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func parseHash(encoded string) (Params, []byte, []byte, error) {
	// "$argon2id$v=19$m=65536,t=3,p=4$salt$hash" splits into an empty
	// first field and five more.
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, ErrMalformedHash
	}

	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil {
		return Params{}, nil, nil, fmt.Errorf("parse version: %w", ErrMalformedHash)
	}
	if version != argon2.Version {
		return Params{}, nil, nil, fmt.Errorf("argon2 version %d, want %d: %w", version, argon2.Version, ErrMalformedHash)
	}

	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return Params{}, nil, nil, fmt.Errorf("parse parameters: %w", ErrMalformedHash)
	}
	if p.Memory == 0 || p.Memory > maxMemoryKiB || p.Time == 0 || p.Time > maxTime || p.Threads == 0 {
		return Params{}, nil, nil, fmt.Errorf("parameters %+v out of range: %w", p, ErrMalformedHash)
	}

	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) == 0 {
		return Params{}, nil, nil, fmt.Errorf("decode salt: %w", ErrMalformedHash)
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 {
		return Params{}, nil, nil, fmt.Errorf("decode hash: %w", ErrMalformedHash)
	}
	return p, salt, key, nil
}

// passwordAlphabet has no symbols, so a generated password survives
// copying from a terminal and quoting in a shell.
const passwordAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// GeneratePassword returns n characters drawn uniformly from
// passwordAlphabet; 24 of them carry about 143 bits.
func GeneratePassword(n int) (Secret, error) {
	// Bytes at or above the largest multiple of the alphabet size are
	// skipped, so every character is equally likely.
	const limit = 256 - 256%len(passwordAlphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("generate password: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit || len(out) == n {
				continue
			}
			out = append(out, passwordAlphabet[int(b)%len(passwordAlphabet)])
		}
	}
	return Secret(out), nil
}
