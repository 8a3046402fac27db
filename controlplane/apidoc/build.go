package apidoc

import (
	"errors"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// Package is the protobuf package the reference documents.
const Package protoreflect.FullName = "decnet.api.v1"

// wellKnownPrefix marks the google.protobuf types. They are left out of the
// reference because their JSON form is fixed and the page describes it once.
const wellKnownPrefix = "google.protobuf."

// ErrNoPackage means the registry contains no file of Package.
var ErrNoPackage = errors.New("no file of package " + string(Package))

// Build describes Package from the files in reg. Comments come from the
// files' source locations, which the generated Go descriptors lack. So
// Build over protoregistry.GlobalFiles returns the structure only, and the
// generator passes files that buf compiled from proto/ instead.
func Build(reg *protoregistry.Files) (*Reference, error) {
	var files []protoreflect.FileDescriptor
	reg.RangeFilesByPackage(Package, func(fd protoreflect.FileDescriptor) bool {
		files = append(files, fd)
		return true
	})
	if len(files) == 0 {
		return nil, ErrNoPackage
	}
	sortFiles(files)

	ref := &Reference{Package: string(Package)}
	for _, fd := range files {
		for i := range fd.Services().Len() {
			ref.Services = append(ref.Services, buildService(fd.Services().Get(i)))
		}
	}

	documented := reachable(files)
	usage := newUsage(files)
	for _, fd := range documentedFiles(documented) {
		walkFile(fd, func(d protoreflect.Descriptor) {
			if documented[d.FullName()] == nil {
				return
			}
			switch d := d.(type) {
			case protoreflect.MessageDescriptor:
				ref.Messages = append(ref.Messages, buildMessage(d, usage))
			case protoreflect.EnumDescriptor:
				ref.Enums = append(ref.Enums, buildEnum(d))
			}
		})
	}
	return ref, nil
}

func sortFiles(files []protoreflect.FileDescriptor) {
	slices.SortFunc(files, func(a, b protoreflect.FileDescriptor) int {
		return strings.Compare(a.Path(), b.Path())
	})
}

func buildService(sd protoreflect.ServiceDescriptor) Service {
	s := Service{
		Name:       string(sd.Name()),
		FullName:   string(sd.FullName()),
		File:       sd.ParentFile().Path(),
		Comment:    comment(sd),
		Procedures: []Procedure{},
	}
	for i := range sd.Methods().Len() {
		md := sd.Methods().Get(i)
		access := accessOf(md)
		idempotency := idempotencyOf(md)
		s.Procedures = append(s.Procedures, Procedure{
			Name:            string(md.Name()),
			Path:            procedurePath(md),
			Comment:         comment(md),
			Access:          access.String(),
			Role:            roleOf(access),
			Scope:           scopeOf(md, idempotency),
			ReadOnly:        idempotency == descriptorpb.MethodOptions_NO_SIDE_EFFECTS,
			Idempotency:     idempotency.String(),
			Request:         string(md.Input().FullName()),
			Response:        string(md.Output().FullName()),
			ClientStreaming: md.IsStreamingClient(),
			ServerStreaming: md.IsStreamingServer(),
		})
	}
	return s
}

// procedurePath is the path every protocol the API speaks puts the
// procedure at.
func procedurePath(md protoreflect.MethodDescriptor) string {
	return "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
}

// procedureLabel names a procedure for people, as Service.Method.
func procedureLabel(md protoreflect.MethodDescriptor) string {
	return string(md.Parent().Name()) + "." + string(md.Name())
}

func accessOf(md protoreflect.MethodDescriptor) apiv1.Access {
	opts, ok := md.Options().(*descriptorpb.MethodOptions)
	if !ok || opts == nil {
		return apiv1.Access_ACCESS_UNSPECIFIED
	}
	access, ok := proto.GetExtension(opts, apiv1.E_Access).(apiv1.Access)
	if !ok {
		return apiv1.Access_ACCESS_UNSPECIFIED
	}
	return access
}

// roleOf mirrors how the interceptor reads the access option: an unknown or
// missing value lets no one in.
func roleOf(access apiv1.Access) string {
	switch access {
	case apiv1.Access_ACCESS_PUBLIC:
		return "public"
	case apiv1.Access_ACCESS_VIEWER:
		return "viewer"
	case apiv1.Access_ACCESS_ANALYST:
		return "analyst"
	case apiv1.Access_ACCESS_ADMIN:
		return "admin"
	default:
		return "none"
	}
}

// scopeOf mirrors how the interceptor derives a procedure's token scope.
func scopeOf(md protoreflect.MethodDescriptor, idempotency descriptorpb.MethodOptions_IdempotencyLevel) string {
	if opts, ok := md.Options().(*descriptorpb.MethodOptions); ok && opts != nil {
		if named, _ := proto.GetExtension(opts, apiv1.E_MethodScope).(string); named != "" {
			return named
		}
	}
	opts, ok := md.Parent().Options().(*descriptorpb.ServiceOptions)
	if !ok || opts == nil {
		return ""
	}
	resource, _ := proto.GetExtension(opts, apiv1.E_Scope).(string)
	if resource == "" {
		return ""
	}
	if idempotency == descriptorpb.MethodOptions_NO_SIDE_EFFECTS {
		return resource + ":read"
	}
	return resource + ":write"
}

func idempotencyOf(md protoreflect.MethodDescriptor) descriptorpb.MethodOptions_IdempotencyLevel {
	opts, ok := md.Options().(*descriptorpb.MethodOptions)
	if !ok || opts == nil {
		return descriptorpb.MethodOptions_IDEMPOTENCY_UNKNOWN
	}
	return opts.GetIdempotencyLevel()
}

func isSecret(fd protoreflect.FieldDescriptor) bool {
	opts, ok := fd.Options().(*descriptorpb.FieldOptions)
	return ok && opts.GetDebugRedact()
}

func buildMessage(md protoreflect.MessageDescriptor, u usage) Message {
	m := Message{
		Name:     string(md.Name()),
		FullName: string(md.FullName()),
		File:     md.ParentFile().Path(),
		Comment:  comment(md),
		Fields:   []Field{},
	}
	for i := range md.Fields().Len() {
		fd := md.Fields().Get(i)
		f := Field{
			Name:     string(fd.Name()),
			JSONName: fd.JSONName(),
			Number:   int32(fd.Number()),
			Type:     typeName(fd),
			Comment:  comment(fd),
		}
		switch {
		case fd.IsMap():
			f.Label = "map"
			f.MapKey = typeName(fd.MapKey())
			f.Type = typeName(fd.MapValue())
		case fd.IsList():
			f.Label = "repeated"
		case fd.HasOptionalKeyword():
			f.Label = "optional"
		}
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			f.Oneof = string(od.Name())
		}
		if isSecret(fd) {
			f.Secret = true
			f.SecretNote = u.secretNote(md.FullName())
		}
		m.Fields = append(m.Fields, f)
	}
	return m
}

func buildEnum(ed protoreflect.EnumDescriptor) Enum {
	e := Enum{
		Name:     string(ed.Name()),
		FullName: string(ed.FullName()),
		File:     ed.ParentFile().Path(),
		Comment:  comment(ed),
		Values:   []EnumValue{},
	}
	for i := range ed.Values().Len() {
		vd := ed.Values().Get(i)
		e.Values = append(e.Values, EnumValue{
			Name:    string(vd.Name()),
			Number:  int32(vd.Number()),
			Comment: comment(vd),
		})
	}
	return e
}

func typeName(fd protoreflect.FieldDescriptor) string {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return string(fd.Message().FullName())
	case protoreflect.EnumKind:
		return string(fd.Enum().FullName())
	default:
		return fd.Kind().String()
	}
}

// comment is the leading comment of d, or its trailing one when it has
// none (enum values are often commented on their own line), without the
// comment markers' space. It is empty when the files carry no source
// info.
func comment(d protoreflect.Descriptor) string {
	loc := d.ParentFile().SourceLocations().ByDescriptor(d)
	text := loc.LeadingComments
	if strings.TrimSpace(text) == "" {
		text = loc.TrailingComments
	}

	lines := strings.Split(text, "\n")
	for i, line := range lines {
		lines[i] = strings.TrimRight(strings.TrimPrefix(line, " "), " \t\r")
	}
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}

// walkFile calls visit for every message and enum of fd, a message before
// its nested enums and messages, in declaration order. Map entries are
// skipped: they are not types a client names.
func walkFile(fd protoreflect.FileDescriptor, visit func(protoreflect.Descriptor)) {
	var walkMessages func(protoreflect.MessageDescriptors)
	walkEnums := func(eds protoreflect.EnumDescriptors) {
		for i := range eds.Len() {
			visit(eds.Get(i))
		}
	}
	walkMessages = func(mds protoreflect.MessageDescriptors) {
		for i := range mds.Len() {
			md := mds.Get(i)
			if md.IsMapEntry() {
				continue
			}
			visit(md)
			walkEnums(md.Enums())
			walkMessages(md.Messages())
		}
	}
	walkEnums(fd.Enums())
	walkMessages(fd.Messages())
}

// reachable returns the messages and enums to document: every one
// declared in files, and every one outside google.protobuf that a field
// of a documented message refers to, such as decnet.event.v1.Event.
func reachable(files []protoreflect.FileDescriptor) map[protoreflect.FullName]protoreflect.Descriptor {
	seen := make(map[protoreflect.FullName]protoreflect.Descriptor)
	var addMessage func(protoreflect.MessageDescriptor)
	addEnum := func(ed protoreflect.EnumDescriptor) {
		if !strings.HasPrefix(string(ed.FullName()), wellKnownPrefix) {
			seen[ed.FullName()] = ed
		}
	}
	addMessage = func(md protoreflect.MessageDescriptor) {
		if seen[md.FullName()] != nil || strings.HasPrefix(string(md.FullName()), wellKnownPrefix) {
			return
		}
		// A map entry is recorded too, so that a cycle through a map value
		// ends, but walkFile never visits it.
		seen[md.FullName()] = md
		for i := range md.Fields().Len() {
			fd := md.Fields().Get(i)
			if fd.Message() != nil {
				addMessage(fd.Message())
			}
			if fd.Enum() != nil {
				addEnum(fd.Enum())
			}
		}
	}

	for _, fd := range files {
		walkFile(fd, func(d protoreflect.Descriptor) {
			switch d := d.(type) {
			case protoreflect.MessageDescriptor:
				addMessage(d)
			case protoreflect.EnumDescriptor:
				addEnum(d)
			}
		})
	}
	return seen
}

// documentedFiles returns the files that declare a documented type, by
// path, so the reference lists types in a stable order.
func documentedFiles(documented map[protoreflect.FullName]protoreflect.Descriptor) []protoreflect.FileDescriptor {
	byPath := make(map[string]protoreflect.FileDescriptor)
	for _, d := range documented {
		byPath[d.ParentFile().Path()] = d.ParentFile()
	}
	files := make([]protoreflect.FileDescriptor, 0, len(byPath))
	for _, fd := range byPath {
		files = append(files, fd)
	}
	sortFiles(files)
	return files
}

// usage records, for each message, the procedures whose requests and
// whose responses may carry it, directly or nested.
type usage struct {
	requests  map[protoreflect.FullName][]string
	responses map[protoreflect.FullName][]string
}

func newUsage(files []protoreflect.FileDescriptor) usage {
	u := usage{
		requests:  make(map[protoreflect.FullName][]string),
		responses: make(map[protoreflect.FullName][]string),
	}
	for _, fd := range files {
		for i := range fd.Services().Len() {
			methods := fd.Services().Get(i).Methods()
			for j := range methods.Len() {
				md := methods.Get(j)
				label := procedureLabel(md)
				markCarried(md.Input(), label, u.requests, make(map[protoreflect.FullName]bool))
				markCarried(md.Output(), label, u.responses, make(map[protoreflect.FullName]bool))
			}
		}
	}
	return u
}

func markCarried(md protoreflect.MessageDescriptor, label string, carriers map[protoreflect.FullName][]string, seen map[protoreflect.FullName]bool) {
	if seen[md.FullName()] {
		return
	}
	seen[md.FullName()] = true
	carriers[md.FullName()] = append(carriers[md.FullName()], label)
	for i := range md.Fields().Len() {
		if sub := md.Fields().Get(i).Message(); sub != nil {
			markCarried(sub, label, carriers, seen)
		}
	}
}

// secretNote returns where a secret field of message name travels.
func (u usage) secretNote(name protoreflect.FullName) string {
	requests, responses := u.requests[name], u.responses[name]
	switch {
	case len(responses) == 0 && len(requests) > 0:
		return "write-only: sent in requests, never returned"
	case len(responses) > 0 && len(requests) == 0:
		return "returned only by " + strings.Join(responses, ", ")
	case len(responses) > 0:
		return "sent in requests and returned only by " + strings.Join(responses, ", ")
	default:
		return ""
	}
}
