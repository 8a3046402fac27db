package apidoc

// Reference is the API as GET /api/reference.json returns it. The field
// names and meanings are a contract with scripts that read the document:
// add to them, do not rename them.
type Reference struct {
	// Package is the protobuf package of the API, "decnet.api.v1".
	Package  string    `json:"package"`
	Services []Service `json:"services"`
	// Messages holds every message of the package and every message or
	// enum of another DECNET package that a field refers to. The
	// google.protobuf well-known types are left out: they are named by
	// full name in Field.Type.
	Messages []Message `json:"messages"`
	Enums    []Enum    `json:"enums"`
}

// Service is one protobuf service, in file and declaration order.
type Service struct {
	Name       string      `json:"name"`
	FullName   string      `json:"full_name"`
	File       string      `json:"file"`
	Comment    string      `json:"comment,omitempty"`
	Procedures []Procedure `json:"procedures"`
}

// Procedure is one RPC.
type Procedure struct {
	Name string `json:"name"`
	// Path is the HTTP path of the procedure for Connect, gRPC and
	// gRPC-Web alike: "/decnet.api.v1.TokenService/CreateToken".
	Path    string `json:"path"`
	Comment string `json:"comment,omitempty"`
	// Access is the value of the (decnet.api.v1.access) option, such as
	// "ACCESS_ADMIN", or "ACCESS_UNSPECIFIED" when the option is missing.
	Access string `json:"access"`
	// Role is the lowest role that may call the procedure: "public" (no
	// session), "viewer", "analyst" or "admin". "none" means the option is
	// missing, and the server rejects every call.
	Role string `json:"role"`
	// Scope is the API token scope the procedure needs, such as
	// "events:read": the method_scope option, or else the service's scope
	// option with read for a read-only procedure and write for others.
	// Empty when the service declares no scope.
	Scope string `json:"scope,omitempty"`
	// ReadOnly is true for idempotency_level NO_SIDE_EFFECTS. Connect
	// clients may call such a procedure with GET.
	ReadOnly bool `json:"read_only"`
	// Idempotency is the idempotency_level option by name.
	Idempotency     string `json:"idempotency"`
	Request         string `json:"request"`
	Response        string `json:"response"`
	ClientStreaming bool   `json:"client_streaming"`
	ServerStreaming bool   `json:"server_streaming"`
}

// Message is one protobuf message. Map entry messages are not listed,
// because a map field gives its key and value types instead.
type Message struct {
	Name     string  `json:"name"`
	FullName string  `json:"full_name"`
	File     string  `json:"file"`
	Comment  string  `json:"comment,omitempty"`
	Fields   []Field `json:"fields"`
}

// Field is one field of a message.
type Field struct {
	Name string `json:"name"`
	// JSONName is the key the field has in the JSON encoding Connect
	// clients send and receive.
	JSONName string `json:"json_name"`
	Number   int32  `json:"number"`
	// Type is a scalar type such as "string" or "uint32", or the full name
	// of a message or enum. For a map it is the value type.
	Type string `json:"type"`
	// Label is "repeated", "map", "optional" (proto3 optional, with
	// presence) or empty for a singular field.
	Label string `json:"label,omitempty"`
	// MapKey is the key type of a map field.
	MapKey string `json:"map_key,omitempty"`
	// Oneof names the oneof the field belongs to. At most one field of a
	// oneof is set.
	Oneof   string `json:"oneof,omitempty"`
	Comment string `json:"comment,omitempty"`
	// Secret is true for fields marked debug_redact: credentials that the
	// server removes from the audit record and returns only where
	// SecretNote states.
	Secret bool `json:"secret,omitempty"`
	// SecretNote states where the secret travels, from where the message
	// is used: "write-only" when only requests carry it, or "returned only
	// by ..." naming the procedures whose responses carry it.
	SecretNote string `json:"secret_note,omitempty"`
}

// Enum is one protobuf enum. Connect JSON names values by Name.
type Enum struct {
	Name     string      `json:"name"`
	FullName string      `json:"full_name"`
	File     string      `json:"file"`
	Comment  string      `json:"comment,omitempty"`
	Values   []EnumValue `json:"values"`
}

// EnumValue is one value of an enum.
type EnumValue struct {
	Name    string `json:"name"`
	Number  int32  `json:"number"`
	Comment string `json:"comment,omitempty"`
}
