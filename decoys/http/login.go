package httpdecoy

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Field names taken as the user name and the password of a login, in
// order of preference: the first name present wins.
var (
	userFieldNames     = []string{"username", "user", "login", "email"}
	passwordFieldNames = []string{"password", "pass", "passwd", "pwd"}
)

// maxJSONBytes caps the JSON body parseJSONLogin reads; maxBodyBytes
// already bounds it, this keeps the function safe on its own.
const maxJSONBytes = maxBodyBytes

// maxJSONDepth caps the nesting parseJSONLogin accepts inside the top
// object. Logins are flat, so deeper input is not worth decoding.
const maxJSONDepth = 32

// pickLogin returns the user name and the password of a login from its
// fields, and whether either was present.
func pickLogin(fields []formField) (user, password string, found bool) {
	user, hasUser := firstField(fields, userFieldNames)
	password, hasPassword := firstField(fields, passwordFieldNames)
	return user, password, hasUser || hasPassword
}

func firstField(fields []formField, names []string) (string, bool) {
	for _, name := range names {
		if v, ok := formValue(fields, name); ok {
			return v, true
		}
	}
	return "", false
}

// parseJSONLogin returns the scalar members of a JSON object as fields,
// in order: strings decoded, numbers and booleans as their literal text.
// Members whose value is an object, an array or null are skipped. Input
// that is not an object, is longer than maxJSONBytes or nests deeper
// than maxJSONDepth yields the members read before the fault; at most
// maxFormFields are returned.
func parseJSONLogin(body []byte) []formField {
	if len(body) > maxJSONBytes || jsonDepth(body) > maxJSONDepth+1 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}

	var fields []formField
	for dec.More() && len(fields) < maxFormFields {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		name, ok := tok.(string)
		if !ok {
			break
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			break
		}
		if value, ok := jsonScalar(raw); ok {
			fields = append(fields, formField{name: name, value: value})
		}
	}
	return fields
}

func jsonScalar(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
		return s, true
	case '{', '[', 'n':
		return "", false
	}
	return string(raw), true
}

// jsonDepth returns the deepest bracket nesting of b, skipping strings.
// It bounds the work json.Decoder would spend on nested input.
func jsonDepth(b []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// isJSONContentType reports application/json or a +json media type,
// parameters allowed.
func isJSONContentType(v string) bool {
	mediaType, _, _ := strings.Cut(v, ";")
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	return mediaType == "application/json" || strings.HasPrefix(mediaType, "application/") && strings.HasSuffix(mediaType, "+json")
}

// queryOf returns the query of a request target, without the fragment.
func queryOf(target string) string {
	_, query, ok := strings.Cut(target, "?")
	if !ok {
		return ""
	}
	query, _, _ = strings.Cut(query, "#")
	return query
}
