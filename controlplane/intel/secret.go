package intel

import (
	"fmt"
	"io"
	"log/slog"
)

const redacted = "[REDACTED]"

// Secret is a provider API key. It prints as [REDACTED] through fmt
// (every verb), zerolog, slog, encoding/json and encoding/text, so a
// logged config cannot leak it. Only Reveal returns the value.
type Secret string

// Reveal returns the key.
func (s Secret) Reveal() string { return string(s) }

// Empty reports whether no key is set.
func (s Secret) Empty() bool { return s == "" }

// String returns the redaction marker.
func (Secret) String() string { return redacted }

// GoString returns the redaction marker for %#v.
func (Secret) GoString() string { return redacted }

// Format prints the redaction marker for every verb.
func (Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// MarshalJSON returns the redaction marker as a JSON string.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText returns the redaction marker.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue returns the redaction marker for log/slog.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
