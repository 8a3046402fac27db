package tftp

import (
	"bytes"
	"strconv"
	"testing"
)

// FuzzParseRequest checks the request parser and the option negotiation
// on arbitrary datagrams: no panic, and every answer is a well-formed
// packet.
func FuzzParseRequest(f *testing.F) {
	for _, tc := range firstReplies {
		f.Add([]byte(tc.req))
	}
	f.Add([]byte("\x00\x02x\x00octet\x00tsize\x00100\x00blksize\x001024\x00"))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		req, rerr, ok := parseRequest(pkt)
		if !ok {
			if rerr != nil {
				t.Fatal("a non-request got an error packet")
			}
			return
		}
		if rerr != nil {
			p := errorPacket(rerr.code, rerr.msg)
			if p[len(p)-1] != 0 || bytes.IndexByte(p[4:], 0) != len(p)-5 {
				t.Fatalf("error packet %q", p)
			}
			return
		}
		if req.mode != "octet" && req.mode != "netascii" {
			t.Fatalf("accepted mode %q", req.mode)
		}
		if len(req.options) > maxOptions {
			t.Fatalf("%d options kept", len(req.options))
		}
		neg, nerr := negotiate(req.options, req.write, 1234, req.mode == "octet")
		if nerr != nil {
			return
		}
		if neg.blksize < minBlksize || neg.blksize > maxBlksize {
			t.Fatalf("blksize %d", neg.blksize)
		}
		if neg.rexmt < minUtimeoutUs || neg.rexmt > maxTimeoutSec*1000000 {
			t.Fatalf("retransmission timeout %d us", neg.rexmt)
		}
		for _, o := range neg.oack {
			if _, err := strconv.ParseUint(o[1], 10, 64); err != nil {
				t.Fatalf("OACK value %q is not a number", o[1])
			}
		}
	})
}
