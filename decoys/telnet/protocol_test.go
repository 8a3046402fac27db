package telnet

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// traceHandler records what the decoder reports, as text.
type traceHandler struct {
	items   []string
	pending []byte
	binary  bool
}

func (h *traceHandler) flushData() {
	if len(h.pending) > 0 {
		h.items = append(h.items, fmt.Sprintf("data %q", h.pending))
		h.pending = nil
	}
}

func (h *traceHandler) data(c byte) { h.pending = append(h.pending, c) }
func (h *traceHandler) command(c byte) {
	h.flushData()
	h.items = append(h.items, fmt.Sprintf("cmd %d", c))
}

func (h *traceHandler) negotiate(verb, option byte) {
	h.flushData()
	h.items = append(h.items, fmt.Sprintf("neg %d %d", verb, option))
}

func (h *traceHandler) subnegotiation(option byte, payload []byte) {
	h.flushData()
	h.items = append(h.items, fmt.Sprintf("sb %d %q", option, payload))
}

func (h *traceHandler) binaryInput() bool { return h.binary }

func TestDecoder(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		binary bool
		want   []string
	}{
		{"plain", []string{"root\r\n"}, false, []string{`data "root\r"`}},
		{"cr nul", []string{"a\r\x00b"}, false, []string{`data "a\rb"`}},
		{"cr split from lf", []string{"a\r", "\nb"}, false, []string{`data "a\rb"`}},
		{"binary keeps lf", []string{"a\r\n"}, true, []string{`data "a\r\n"`}},
		{"escaped iac", []string{"\xff\xffx"}, false, []string{`data "\xffx"`}},
		{"negotiation split", []string{"\xff", "\xfd", "\x18"}, false, []string{"neg 253 24"}},
		{"subnegotiation", []string{"\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0"}, false, []string{`sb 31 "\x00P\x00\x18"`}},
		{"sb with escaped iac", []string{"\xff\xfa\x1f\x00\xff\xff\x00\x18\xff\xf0"}, false, []string{`sb 31 "\x00\xff\x00\x18"`}},
		{"sb ended by another command", []string{"\xff\xfa\x18\x00vt\xff\xfb\x01"}, false, []string{`sb 24 "\x00vt"`, "neg 251 1"}},
		{"sb ended by ayt", []string{"\xff\xfa\x18\x00vt\xff\xf6z"}, false, []string{`sb 24 "\x00vt"`, "cmd 246", `data "z"`}},
		{"empty sb", []string{"\xff\xfa\xff\xf0x"}, false, []string{`data "x"`}},
		{"se without sb", []string{"\xff\xf0x"}, false, []string{"cmd 240", `data "x"`}},
		{"unknown command", []string{"\xff\x00x"}, false, []string{"cmd 0", `data "x"`}},
		{"ayt", []string{"\xff\xf6"}, false, []string{"cmd 246"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &traceHandler{binary: tc.binary}
			var d decoder
			for _, c := range tc.chunks {
				d.feed([]byte(c), h)
			}
			h.flushData()
			if strings.Join(h.items, "; ") != strings.Join(tc.want, "; ") {
				t.Errorf("items\n got %q\nwant %q", h.items, tc.want)
			}
		})
	}
}

func TestDecoderCapsSubnegotiation(t *testing.T) {
	h := &traceHandler{}
	var d decoder
	d.feed([]byte("\xff\xfa\x18"), h)
	d.feed(bytes.Repeat([]byte("A"), 100000), h)
	d.feed([]byte("\xff\xf0"), h)
	if len(h.items) != 1 {
		t.Fatalf("items %d, want 1", len(h.items))
	}
	if cap(d.sb) > 2*maxSubnegotiation {
		t.Errorf("subnegotiation buffer grew to %d bytes", cap(d.sb))
	}
	want := fmt.Sprintf("sb 24 %q", strings.Repeat("A", maxSubnegotiation-1))
	if h.items[0] != want {
		t.Errorf("subnegotiation kept %d bytes", len(h.items[0]))
	}
}

func TestAppendNVT(t *testing.T) {
	tests := []struct {
		in     string
		binary bool
		want   string
	}{
		{"a\r\nb", false, "a\r\nb"},
		{"a\rb", false, "a\r\x00b"},
		{"a\r", false, "a\r\x00"},
		{"a\rb", true, "a\rb"},
		{"\xff", false, "\xff\xff"},
	}
	for _, tc := range tests {
		if got := string(appendNVT(nil, []byte(tc.in), tc.binary)); got != tc.want {
			t.Errorf("appendNVT(%q, %v) = %q, want %q", tc.in, tc.binary, got, tc.want)
		}
	}
}

func TestSLCReply(t *testing.T) {
	// The list the Debian telnet client sends, and the reply inetutils
	// telnetd sent to it.
	client := []byte("\x01\x00\x00\x03b\x03\x04\x02\x0f\x05\x00\x00\x07b\x1c\x08\x02\x04\tB\x1a\n\x02\x7f\x0b\x02\x15\x0c\x02\x17\r\x02\x12\x0e\x02\x16\x0f\x02\x11\x10\x02\x13\x11\x00\x00\x12\x00\x00")
	want := "\xff\xfa\"\x03\x03\xe2\x03\x04\x82\x0f\x07\xe2\x1c\x08\x82\x04\t\xc2\x1a\n\x82\x7f\x0b\x82\x15\x0c\x82\x17\r\x82\x12\x0e\x82\x16\x0f\x82\x11\x10\x82\x13\xff\xf0"
	if got := string(slcReply(client)); got != want {
		t.Errorf("slcReply\n got %q\nwant %q", got, want)
	}
	if got := slcReply([]byte{1, 0, 0}); got != nil {
		t.Errorf("slcReply of unsupported functions = %q, want nil", got)
	}
}

func FuzzDecoder(f *testing.F) {
	f.Add([]byte("\xff\xfd\x18\xff\xfa\x18\x00xterm\xff\xf0root\r\n"))
	f.Add([]byte("\xff\xfa\x1f\xff\xff\x00\xff\xfb"))
	f.Add([]byte("\xff\xfa\"\x03\x01\x00\x00\x03b\x03\xff\xf0\xff\xf6\xff\xfd\x12"))
	f.Fuzz(func(t *testing.T, in []byte) {
		for i := range 2 * len(personas) {
			tc := newTConn(nil, &personas[i/2], 0)
			// Odd runs type into the login prompt's line discipline.
			tc.canonical = i%2 == 1
			tc.ldEcho = true
			tc.started = true
			// Split the input at every third byte to exercise resumption.
			for i := 0; i < len(in); i += 3 {
				tc.dec.feed(in[i:min(i+3, len(in))], tc)
			}
			if len(tc.dec.sb) > maxSubnegotiation {
				t.Fatalf("subnegotiation buffer %d bytes", len(tc.dec.sb))
			}
			if len(tc.in) > maxTypeahead {
				t.Fatalf("typeahead %d bytes", len(tc.in))
			}
			// Every reply answers at most one input command, and the
			// longest reply (the SLC list) is bounded by the input.
			if len(tc.out) > 16*len(in)+64 {
				t.Fatalf("%d reply bytes for %d input bytes", len(tc.out), len(in))
			}
			if len(tc.ldLines) > maxPendingLines || len(tc.ldLine) > maxTypeahead {
				t.Fatalf("line discipline holds %d lines, %d bytes", len(tc.ldLines), len(tc.ldLine))
			}
			if len(tc.termType) > maxTermType {
				t.Fatalf("terminal type %d bytes", len(tc.termType))
			}
			if tc.slc != nil {
				slcReply(tc.slc)
			}
		}
	})
}
