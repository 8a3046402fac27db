package bus

import "github.com/decnet/decnet/subject"

// ErrInvalidSubject is wrapped by the errors of ValidatePattern and
// ValidateSubject.
var ErrInvalidSubject = subject.ErrInvalidSubject

// ValidateSubject checks a subject that events are published on, as
// subject.Validate does.
func ValidateSubject(s string) error { return subject.Validate(s) }

// ValidatePattern checks a subscription pattern, as subject.ValidatePattern
// does.
func ValidatePattern(pattern string) error { return subject.ValidatePattern(pattern) }

// Match reports whether s matches pattern, as subject.Match does.
func Match(pattern, s string) bool { return subject.Match(pattern, s) }
