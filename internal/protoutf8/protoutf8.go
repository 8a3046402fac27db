// Package protoutf8 repairs string fields that are not valid UTF-8, which
// proto.Marshal refuses for proto3 strings. Decoys copy attacker bytes
// (user names, client versions, commands) into string fields; one stray
// byte must not cost the whole event.
package protoutf8

import (
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Replacement stands in for each run of invalid bytes.
const Replacement = "\uFFFD"

// Fix replaces each run of invalid UTF-8 in m's string fields, nested
// messages, lists and maps included, with Replacement, and reports
// whether it changed anything.
func Fix(m proto.Message) bool {
	if m == nil {
		return false
	}
	return fixMessage(m.ProtoReflect())
}

func fixMessage(m protoreflect.Message) bool {
	changed := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			changed = fixList(fd, v.List()) || changed
		case fd.IsMap():
			changed = fixMap(fd, v.Map()) || changed
		case fd.Kind() == protoreflect.StringKind:
			if s := v.String(); !utf8.ValidString(s) {
				m.Set(fd, protoreflect.ValueOfString(strings.ToValidUTF8(s, Replacement)))
				changed = true
			}
		case fd.Message() != nil:
			changed = fixMessage(v.Message()) || changed
		}
		return true
	})
	return changed
}

func fixList(fd protoreflect.FieldDescriptor, l protoreflect.List) bool {
	changed := false
	for i := range l.Len() {
		switch {
		case fd.Kind() == protoreflect.StringKind:
			if s := l.Get(i).String(); !utf8.ValidString(s) {
				l.Set(i, protoreflect.ValueOfString(strings.ToValidUTF8(s, Replacement)))
				changed = true
			}
		case fd.Message() != nil:
			changed = fixMessage(l.Get(i).Message()) || changed
		}
	}
	return changed
}

func fixMap(fd protoreflect.FieldDescriptor, mp protoreflect.Map) bool {
	type entry struct {
		key protoreflect.MapKey
		val protoreflect.Value
	}
	var bad []entry
	changed := false
	mp.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
		switch {
		case fd.MapValue().Kind() == protoreflect.StringKind:
			if s := v.String(); !utf8.ValidString(s) {
				v = protoreflect.ValueOfString(strings.ToValidUTF8(s, Replacement))
				mp.Set(k, v)
				changed = true
			}
		case fd.MapValue().Message() != nil:
			changed = fixMessage(v.Message()) || changed
		}
		if fd.MapKey().Kind() == protoreflect.StringKind && !utf8.ValidString(k.String()) {
			bad = append(bad, entry{k, v})
		}
		return true
	})
	// Keys are replaced after the walk, which must not see its map change.
	for _, e := range bad {
		mp.Clear(e.key)
		mp.Set(protoreflect.ValueOfString(strings.ToValidUTF8(e.key.String(), Replacement)).MapKey(), e.val)
		changed = true
	}
	return changed
}
