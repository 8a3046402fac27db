package api

import (
	"errors"
	"fmt"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// strictJSONCodec decodes JSON requests like connect-go's own JSON codec
// but rejects fields the message does not have. connect-go discards them,
// so a misspelled filter such as {"filter":{"sorce":"1.2.3.4"}} would
// return unfiltered results. Connect returns a decoding error as
// invalid_argument with the protojson message, which names the field.
type strictJSONCodec struct {
	// name is the codec name the Content-Type selects: "json", or
	// "json; charset=utf-8" as browsers send it.
	name string
}

// strictJSONCodecs replaces both JSON codecs that connect-go registers on
// a handler.
func strictJSONCodecs() connect.HandlerOption {
	return connect.WithHandlerOptions(
		connect.WithCodec(strictJSONCodec{name: "json"}),
		connect.WithCodec(strictJSONCodec{name: "json; charset=utf-8"}),
	)
}

// Name returns the codec name.
func (c strictJSONCodec) Name() string { return c.name }

// IsBinary reports false, so Connect GET requests carry the message as
// text.
func (strictJSONCodec) IsBinary() bool { return false }

// Marshal encodes a response as connect-go's JSON codec does.
func (strictJSONCodec) Marshal(message any) ([]byte, error) {
	m, ok := message.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("marshal %T: not a protobuf message", message)
	}
	return protojson.MarshalOptions{}.Marshal(m)
}

// Unmarshal decodes a request and fails on an unknown field.
func (strictJSONCodec) Unmarshal(data []byte, message any) error {
	m, ok := message.(proto.Message)
	if !ok {
		return fmt.Errorf("unmarshal into %T: not a protobuf message", message)
	}
	if len(data) == 0 {
		return errors.New("empty request body: send a JSON object such as {}")
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(data, m); err != nil {
		return fmt.Errorf("invalid JSON request: %w", err)
	}
	return nil
}
