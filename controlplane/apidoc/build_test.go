package apidoc

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/decnet/decnet/controlplane/apidoc/internal/protosource"
)

const staleHint = "reference.json is stale: run go generate ./controlplane/apidoc and commit it"

// TestReferenceMatchesDescriptors compares the committed document with
// the descriptors compiled into the binary. Those carry no comments, so
// this catches every change but a comment's without buf.
func TestReferenceMatchesDescriptors(t *testing.T) {
	committed, err := decode(referenceJSON)
	if err != nil {
		t.Fatal(err)
	}
	compiled, err := Build(protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}

	got, want := withoutComments(committed), withoutComments(compiled)
	if len(got.Services) != len(want.Services) || len(got.Messages) != len(want.Messages) || len(got.Enums) != len(want.Enums) {
		t.Fatalf("%s: committed has %d services, %d messages, %d enums; descriptors have %d, %d, %d", staleHint,
			len(got.Services), len(got.Messages), len(got.Enums), len(want.Services), len(want.Messages), len(want.Enums))
	}
	for i := range want.Services {
		if !reflect.DeepEqual(got.Services[i], want.Services[i]) {
			t.Errorf("%s: service %s\ncommitted:   %+v\ndescriptors: %+v", staleHint, want.Services[i].FullName, got.Services[i], want.Services[i])
		}
	}
	for i := range want.Messages {
		if !reflect.DeepEqual(got.Messages[i], want.Messages[i]) {
			t.Errorf("%s: message %s\ncommitted:   %+v\ndescriptors: %+v", staleHint, want.Messages[i].FullName, got.Messages[i], want.Messages[i])
		}
	}
	for i := range want.Enums {
		if !reflect.DeepEqual(got.Enums[i], want.Enums[i]) {
			t.Errorf("%s: enum %s\ncommitted:   %+v\ndescriptors: %+v", staleHint, want.Enums[i].FullName, got.Enums[i], want.Enums[i])
		}
	}
}

// TestReferenceIsCurrent regenerates the document from proto/ with buf,
// comments included, and wants the committed file byte for byte.
func TestReferenceIsCurrent(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	buf, err := protosource.FindBuf(root)
	if errors.Is(err, protosource.ErrNoBuf) {
		t.Skip("buf is not installed (make tools); TestReferenceMatchesDescriptors still checks all but comments")
	}
	if err != nil {
		t.Fatal(err)
	}

	files, err := protosource.Build(context.Background(), buf, root)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := Build(files)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Encode(ref)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(referenceJSON, want) {
		t.Fatal(staleHint)
	}

	// The comments are the reason for buf, so check that they arrived. The
	// access option is checked too, because buf's output only carries it as
	// a typed extension when the resolver contains its Go type.
	login := findProcedure(t, ref, "/decnet.api.v1.AuthService/Login")
	if login.Comment == "" || login.Role != "public" {
		t.Errorf("Login from buf: comment %q, role %q; want a comment and role public", login.Comment, login.Role)
	}
}

func TestBuildEmptyRegistry(t *testing.T) {
	_, err := Build(new(protoregistry.Files))
	if !errors.Is(err, ErrNoPackage) {
		t.Fatalf("Build(empty) error = %v, want ErrNoPackage", err)
	}
}

func TestComment(t *testing.T) {
	ref, err := decode(referenceJSON)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		got  string
		want string
	}{
		{
			name: "service leading comment keeps its line breaks without the marker space",
			got:  findService(t, ref, "decnet.api.v1.TokenService").Comment,
			want: "TokenService creates, lists and revokes the single-use bootstrap tokens\n" +
				"that enroll new agents. Secrets leave the server only in the response to\nCreateToken.",
		},
		{
			name: "enum value with only a trailing comment",
			got:  findEnum(t, ref, "decnet.api.v1.WebhookFormat").Values[0].Comment,
			want: "generic",
		},
		{
			name: "field comment",
			got:  findField(t, ref, "decnet.api.v1.ListEventsRequest", "page_size").Comment,
			want: "Maximum events to return; 0 means 100, values above 1000 are capped.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("comment = %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestFieldShapes(t *testing.T) {
	ref, err := decode(referenceJSON)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		message, field string
		want           Field
	}{
		{"decnet.api.v1.CreateTokenRequest", "labels", Field{Name: "labels", JSONName: "labels", Number: 3, Type: "string", Label: "map", MapKey: "string"}},
		{"decnet.api.v1.CreateTokenRequest", "ttl", Field{Name: "ttl", JSONName: "ttl", Number: 2, Type: "google.protobuf.Duration"}},
		{"decnet.api.v1.ListEventsResponse", "events", Field{Name: "events", JSONName: "events", Number: 1, Type: "decnet.api.v1.StoredEvent", Label: "repeated"}},
		{"decnet.api.v1.Notice", "credential_reuse", Field{Name: "credential_reuse", JSONName: "credentialReuse", Number: 11, Type: "decnet.api.v1.CredentialReuse", Oneof: "detail"}},
		{"decnet.api.v1.WebhookIncident", "subjects", Field{Name: "subjects", JSONName: "subjects", Number: 5, Type: "uint32", Label: "map", MapKey: "string"}},
		{"decnet.api.v1.TokenInfo", "state", Field{Name: "state", JSONName: "state", Number: 8, Type: "decnet.api.v1.TokenState"}},
	}
	for _, tt := range tests {
		t.Run(tt.message+"."+tt.field, func(t *testing.T) {
			got := findField(t, ref, tt.message, tt.field)
			got.Comment = ""
			if got != tt.want {
				t.Errorf("field = %+v, want %+v", got, tt.want)
			}
		})
	}

	// Types from other DECNET packages that fields name are documented;
	// well-known types and map entries are not.
	if findMessage(ref, "decnet.event.v1.Event") == nil {
		t.Error("decnet.event.v1.Event, the payload of StoredEvent, is not documented")
	}
	for _, name := range []string{"google.protobuf.Timestamp", "decnet.api.v1.CreateTokenRequest.LabelsEntry"} {
		if findMessage(ref, name) != nil {
			t.Errorf("%s is documented, want it left out", name)
		}
	}
}

func withoutComments(ref *Reference) *Reference {
	out := &Reference{Package: ref.Package}
	for _, s := range ref.Services {
		s.Comment = ""
		procs := make([]Procedure, len(s.Procedures))
		for i, p := range s.Procedures {
			p.Comment = ""
			procs[i] = p
		}
		s.Procedures = procs
		out.Services = append(out.Services, s)
	}
	for _, m := range ref.Messages {
		m.Comment = ""
		fields := make([]Field, len(m.Fields))
		for i, f := range m.Fields {
			f.Comment = ""
			fields[i] = f
		}
		m.Fields = fields
		out.Messages = append(out.Messages, m)
	}
	for _, e := range ref.Enums {
		e.Comment = ""
		values := make([]EnumValue, len(e.Values))
		for i, v := range e.Values {
			v.Comment = ""
			values[i] = v
		}
		e.Values = values
		out.Enums = append(out.Enums, e)
	}
	return out
}

func findService(t *testing.T, ref *Reference, fullName string) Service {
	t.Helper()
	for _, s := range ref.Services {
		if s.FullName == fullName {
			return s
		}
	}
	t.Fatalf("service %s not in the reference", fullName)
	return Service{}
}

func findProcedure(t *testing.T, ref *Reference, path string) Procedure {
	t.Helper()
	for _, s := range ref.Services {
		for _, p := range s.Procedures {
			if p.Path == path {
				return p
			}
		}
	}
	t.Fatalf("procedure %s not in the reference", path)
	return Procedure{}
}

func findMessage(ref *Reference, fullName string) *Message {
	for i := range ref.Messages {
		if ref.Messages[i].FullName == fullName {
			return &ref.Messages[i]
		}
	}
	return nil
}

func findField(t *testing.T, ref *Reference, message, field string) Field {
	t.Helper()
	m := findMessage(ref, message)
	if m == nil {
		t.Fatalf("message %s not in the reference", message)
	}
	for _, f := range m.Fields {
		if f.Name == field {
			return f
		}
	}
	t.Fatalf("field %s.%s not in the reference", message, field)
	return Field{}
}

func findEnum(t *testing.T, ref *Reference, fullName string) Enum {
	t.Helper()
	for _, e := range ref.Enums {
		if e.FullName == fullName {
			return e
		}
	}
	t.Fatalf("enum %s not in the reference", fullName)
	return Enum{}
}
