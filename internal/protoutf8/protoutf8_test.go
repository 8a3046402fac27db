package protoutf8

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

func TestFixNestedStrings(t *testing.T) {
	ev := &eventv1.Event{
		Id:   "id-1",
		Kind: "auth.attempt",
		Payload: &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{
			Principal: "ro\xffot", Mechanism: "ssh_password", Secret: []byte{0xff, 0xfe},
		}},
	}
	if _, err := proto.Marshal(ev); err == nil {
		t.Fatal("proto.Marshal accepted invalid UTF-8; the repair is not needed")
	}
	if !Fix(ev) {
		t.Fatal("Fix reported no change")
	}
	if got := ev.GetAuthAttempt().GetPrincipal(); got != "ro\uFFFDot" {
		t.Errorf("principal = %q", got)
	}
	if got := ev.GetAuthAttempt().GetSecret(); string(got) != "\xff\xfe" {
		t.Errorf("bytes field changed to %x", got)
	}
	if _, err := proto.Marshal(ev); err != nil {
		t.Fatalf("Marshal after Fix: %v", err)
	}
	if Fix(ev) {
		t.Error("a second Fix changed something")
	}
}

func TestFixListsAndMaps(t *testing.T) {
	req := &eventv1.HTTPRequest{
		Method:  "GET",
		Headers: []*eventv1.Header{{Name: "X-\xc3", Value: "ok"}, {Name: "Host", Value: "a\x80b"}},
	}
	if !Fix(req) {
		t.Fatal("no change")
	}
	if req.GetHeaders()[0].GetName() != "X-\uFFFD" || req.GetHeaders()[1].GetValue() != "a\uFFFDb" {
		t.Errorf("headers = %v", req.GetHeaders())
	}
	if _, err := proto.Marshal(req); err != nil {
		t.Fatal(err)
	}
}

func TestFixMaps(t *testing.T) {
	st := &structpb.Struct{Fields: map[string]*structpb.Value{
		"k\xff": structpb.NewStringValue("v"),
		"ok":    structpb.NewStringValue("v\xfe"),
	}}
	if !Fix(st) {
		t.Fatal("no change")
	}
	if st.GetFields()["k\uFFFD"].GetStringValue() != "v" || st.GetFields()["ok"].GetStringValue() != "v\uFFFD" || len(st.GetFields()) != 2 {
		t.Errorf("fields = %v", st.GetFields())
	}
	if _, err := proto.Marshal(st); err != nil {
		t.Fatal(err)
	}
}

func FuzzFix(f *testing.F) {
	f.Add("root", "SSH-2.0-x")
	f.Add("\xff", "\xc3(")
	f.Fuzz(func(t *testing.T, principal, version string) {
		ev := &eventv1.Event{Payload: &eventv1.Event_ClientFingerprinted{ClientFingerprinted: &eventv1.ClientFingerprint{SshClientVersion: version}}}
		attempt := &eventv1.AuthAttempt{Principal: principal}
		Fix(ev)
		Fix(attempt)
		if _, err := proto.Marshal(ev); err != nil {
			t.Fatalf("Marshal after Fix: %v", err)
		}
		if _, err := proto.Marshal(attempt); err != nil {
			t.Fatalf("Marshal after Fix: %v", err)
		}
	})
}
