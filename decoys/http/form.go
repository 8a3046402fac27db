package httpdecoy

import (
	"bytes"
	"net/url"
	"strings"
)

// maxFormFields caps the fields parseForm returns; the body size cap
// bounds the rest of the work.
const maxFormFields = 256

// formField is one name=value pair of a URL-encoded form, decoded.
type formField struct {
	name  string
	value string
}

// parseForm splits an application/x-www-form-urlencoded body into its
// fields in order. An invalid escape keeps its raw text, as PHP does, so
// a mangled password is still recorded.
func parseForm(body []byte) []formField {
	var fields []formField
	for len(body) > 0 && len(fields) < maxFormFields {
		var pair []byte
		pair, body, _ = bytes.Cut(body, []byte{'&'})
		if len(pair) == 0 {
			continue
		}
		name, value, _ := bytes.Cut(pair, []byte{'='})
		fields = append(fields, formField{name: unescapeForm(name), value: unescapeForm(value)})
	}
	return fields
}

func unescapeForm(b []byte) string {
	s, err := url.QueryUnescape(string(b))
	if err != nil {
		return strings.ReplaceAll(string(b), "+", " ")
	}
	return s
}

// formValue returns the first value of name and whether it was present.
func formValue(fields []formField, name string) (string, bool) {
	for _, f := range fields {
		if f.name == name {
			return f.value, true
		}
	}
	return "", false
}

// isFormContentType reports an application/x-www-form-urlencoded media
// type, parameters allowed.
func isFormContentType(v string) bool {
	mediaType, _, _ := strings.Cut(v, ";")
	return strings.EqualFold(strings.TrimSpace(mediaType), "application/x-www-form-urlencoded")
}
