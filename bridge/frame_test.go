package bridge_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/decnet/decnet/bridge"
	bridgev1 "github.com/decnet/decnet/gen/decnet/bridge/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

func TestFrameRoundTrip(t *testing.T) {
	in := &bridgev1.AgentFrame{Frame: &bridgev1.AgentFrame_Batch{Batch: &bridgev1.Batch{
		Sequence: 7,
		Events:   []*eventv1.Event{{Id: "a", Kind: "command"}, {Id: "b"}},
	}}}
	var buf bytes.Buffer
	if err := bridge.WriteFrame(&buf, in); err != nil {
		t.Fatal(err)
	}
	if got := binary.BigEndian.Uint32(buf.Bytes()); int(got) != buf.Len()-4 {
		t.Fatalf("length prefix %d, want %d", got, buf.Len()-4)
	}

	var out bridgev1.AgentFrame
	if err := bridge.ReadFrame(&buf, &out); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(in, &out) {
		t.Errorf("read %v, want %v", &out, in)
	}
	if err := bridge.ReadFrame(&buf, &out); !errors.Is(err, io.EOF) {
		t.Errorf("ReadFrame() at end = %v, want io.EOF", err)
	}
}

func TestReadFrameErrors(t *testing.T) {
	tooLarge := binary.BigEndian.AppendUint32(nil, bridge.MaxFrameBytes+1)
	tests := []struct {
		name  string
		input []byte
		want  error
	}{
		{"oversized length", tooLarge, bridge.ErrFrameTooLarge},
		{"truncated header", []byte{0, 0}, io.ErrUnexpectedEOF},
		{"truncated body", []byte{0, 0, 0, 5, 1}, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bridgev1.AgentFrame
			err := bridge.ReadFrame(bytes.NewReader(tt.input), &out)
			if !errors.Is(err, tt.want) {
				t.Errorf("ReadFrame() = %v, want %v", err, tt.want)
			}
		})
	}
}

func FuzzReadFrame(f *testing.F) {
	var seed bytes.Buffer
	if err := bridge.WriteFrame(&seed, &bridgev1.AgentFrame{Frame: &bridgev1.AgentFrame_Hello{Hello: &bridgev1.Hello{Version: "1"}}}); err != nil {
		f.Fatal(err)
	}
	f.Add(seed.Bytes())
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		var frame bridgev1.AgentFrame
		if err := bridge.ReadFrame(bytes.NewReader(data), &frame); err != nil {
			return
		}
		// A frame that decoded must encode and decode to the same message.
		var buf bytes.Buffer
		if err := bridge.WriteFrame(&buf, &frame); err != nil {
			t.Fatalf("WriteFrame() of a decoded frame = %v", err)
		}
		var again bridgev1.AgentFrame
		if err := bridge.ReadFrame(&buf, &again); err != nil {
			t.Fatalf("ReadFrame() of a re-encoded frame = %v", err)
		}
		if !proto.Equal(&frame, &again) {
			t.Fatal("re-encoded frame differs")
		}
	})
}
