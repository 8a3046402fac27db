package tokens

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrInvalid marks a request the caller must correct: a bad name, TTL,
// label or agent id. The message after it is safe to show.
var ErrInvalid = errors.New("invalid token request")

// Label limits. Labels end up in every agent listing and in logs, so they
// stay short and plain, in the style of Kubernetes labels.
const (
	maxLabels           = 16
	maxLabelKeyLength   = 63
	maxLabelValueLength = 63
)

// CheckLabels reports whether labels are acceptable: at most 16, keys of 1
// to 63 characters from a-z, 0-9, '.', '_' and '-' starting with a letter
// or digit, values of up to 63 characters from A-Z, a-z, 0-9, '.', '_' and
// '-'. Errors wrap ErrInvalid.
func CheckLabels(labels map[string]string) error {
	if len(labels) > maxLabels {
		return fmt.Errorf("%w: %d labels, at most %d", ErrInvalid, len(labels), maxLabels)
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	// Sorted, so the same input always reports the same label.
	sort.Strings(keys)
	for _, k := range keys {
		if err := checkLabelKey(k); err != nil {
			return err
		}
		if err := checkLabelValue(k, labels[k]); err != nil {
			return err
		}
	}
	return nil
}

func checkLabelKey(k string) error {
	switch {
	case k == "":
		return fmt.Errorf("%w: label key is empty", ErrInvalid)
	case len(k) > maxLabelKeyLength:
		return fmt.Errorf("%w: label key %q is longer than %d characters", ErrInvalid, k, maxLabelKeyLength)
	case !isLowerAlnum(k[0]):
		return fmt.Errorf("%w: label key %q must start with a-z or 0-9", ErrInvalid, k)
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !isLowerAlnum(c) && c != '.' && c != '_' && c != '-' {
			return fmt.Errorf("%w: label key %q may contain only a-z, 0-9, '.', '_' and '-'", ErrInvalid, k)
		}
	}
	return nil
}

func checkLabelValue(k, v string) error {
	if len(v) > maxLabelValueLength {
		return fmt.Errorf("%w: value of label %q is longer than %d characters", ErrInvalid, k, maxLabelValueLength)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !isLowerAlnum(c) && (c < 'A' || c > 'Z') && c != '.' && c != '_' && c != '-' {
			return fmt.Errorf("%w: value of label %q may contain only letters, digits, '.', '_' and '-'", ErrInvalid, k)
		}
	}
	return nil
}

func isLowerAlnum(c byte) bool {
	return ('a' <= c && c <= 'z') || ('0' <= c && c <= '9')
}

// ParseLabels parses key=value arguments, as given on the command line,
// and checks them with CheckLabels. A key given twice is an error.
func ParseLabels(args []string) (map[string]string, error) {
	if len(args) == 0 {
		return nil, nil
	}
	labels := make(map[string]string, len(args))
	for _, arg := range args {
		k, v, ok := strings.Cut(arg, "=")
		if !ok {
			return nil, fmt.Errorf("%w: label %q is not key=value", ErrInvalid, arg)
		}
		if _, dup := labels[k]; dup {
			return nil, fmt.Errorf("%w: label %q given twice", ErrInvalid, k)
		}
		labels[k] = v
	}
	if err := CheckLabels(labels); err != nil {
		return nil, err
	}
	return labels, nil
}

// FormatLabels returns labels as sorted key=value pairs joined by commas,
// or "-" for none.
func FormatLabels(labels map[string]string) string {
	if len(labels) == 0 {
		return "-"
	}
	pairs := make([]string, 0, len(labels))
	for k, v := range labels {
		pairs = append(pairs, k+"="+v)
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}
