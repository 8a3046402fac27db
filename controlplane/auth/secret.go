package auth

import (
	"fmt"
	"io"
	"log/slog"
)

const redacted = "[REDACTED]"

// Secret is a DECNET secret such as a password or a bearer token. It
// prints as [REDACTED] through fmt, zerolog, slog, encoding/json and
// encoding/text, so that logging a value or a struct holding it does not
// leak it. Reveal returns the value for the code that must use it.
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// Empty reports whether the secret has no value.
func (s Secret) Empty() bool { return s == "" }

// String returns the redaction marker.
func (Secret) String() string { return redacted }

// GoString returns the redaction marker for %#v.
func (Secret) GoString() string { return redacted }

// Format prints the redaction marker for every verb, including %x and %q.
func (Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// MarshalJSON returns the redaction marker as a JSON string.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText returns the redaction marker.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue returns the redaction marker for log/slog.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
