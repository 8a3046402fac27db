// Package subject validates and matches NATS-style subjects: tokens
// separated by dots, where a subscription pattern may use "*" for any one
// token and a final ">" for one or more tokens. The agent bus and the
// control plane publishers share it.
package subject

import (
	"errors"
	"fmt"
	"strings"
)

// Wildcard tokens of a subscription pattern, as in NATS.
const (
	// wildcardOne matches exactly one token.
	wildcardOne = "*"
	// wildcardTail matches one or more trailing tokens and must be last.
	wildcardTail = ">"
)

// ErrInvalidSubject is wrapped by the errors of ValidatePattern and Validate.
var ErrInvalidSubject = errors.New("invalid subject")

// Validate checks a subject that events are published on: one or
// more non-empty tokens separated by '.', none of them a wildcard and none
// containing whitespace.
func Validate(subject string) error {
	return validate(subject, false)
}

// ValidatePattern checks a subscription pattern: a subject in which a token
// may be '*' (any one token) and the last token may be '>' (one or more
// tokens).
func ValidatePattern(pattern string) error {
	return validate(pattern, true)
}

func validate(s string, wildcards bool) error {
	if s == "" {
		return fmt.Errorf("%w: empty", ErrInvalidSubject)
	}

	tokens := strings.Split(s, ".")
	for i, tok := range tokens {
		switch {
		case tok == "":
			return fmt.Errorf("%w %q: empty token at position %d", ErrInvalidSubject, s, i+1)
		case strings.ContainsAny(tok, " \t\r\n"):
			return fmt.Errorf("%w %q: whitespace in token %q", ErrInvalidSubject, s, tok)
		case tok == wildcardOne || tok == wildcardTail:
			if !wildcards {
				return fmt.Errorf("%w %q: wildcard %q is allowed only in subscription patterns", ErrInvalidSubject, s, tok)
			}
			if tok == wildcardTail && i != len(tokens)-1 {
				return fmt.Errorf("%w %q: %q must be the last token", ErrInvalidSubject, s, wildcardTail)
			}
		}
	}
	return nil
}

// Match reports whether subject matches pattern. Both are assumed valid.
// Match does not allocate, since publishers call it for every subscription
// on every event.
func Match(pattern, subject string) bool {
	for {
		ptok, prest, pmore := strings.Cut(pattern, ".")
		if ptok == wildcardTail {
			return subject != ""
		}
		if subject == "" {
			return false
		}

		stok, srest, smore := strings.Cut(subject, ".")
		if ptok != wildcardOne && ptok != stok {
			return false
		}
		if !pmore || !smore {
			return pmore == smore
		}
		pattern, subject = prest, srest
	}
}
