package stix

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/attack"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// FuzzAttackerExport feeds attacker-controlled text (addresses, principals,
// URLs, file names) into both exports. Every STIX bundle produced must
// pass the validator, and every MISP event must be JSON.
func FuzzAttackerExport(f *testing.F) {
	f.Add("198.51.100.7", "root", "http://x/y?a='b'", "x86", int64(0))
	f.Add("::ffff:192.0.2.1", "a\x00b\"c", "\xff\xfe", "", int64(-5))
	f.Add("fe80::1%eth0", "", "", "../../etc/passwd", int64(1<<40))
	f.Fuzz(func(t *testing.T, addr, principal, url, name string, offset int64) {
		at := time.Unix(1772366400, 0).Add(time.Duration(offset) * time.Millisecond)
		a := &apiv1.Attacker{Id: "a", Addresses: []string{addr}, FirstSeen: timestamppb.New(at), LastSeen: timestamppb.New(at.Add(time.Second)), EventCount: 2}
		sum := sha256Sum([]byte(name))
		events := []*apiv1.StoredEvent{
			{AttackerId: "a", Event: &eventv1.Event{Time: timestamppb.New(at), Source: &eventv1.Endpoint{Address: addr},
				Payload: &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{Principal: principal}}}},
			{AttackerId: "a", Event: &eventv1.Event{Time: timestamppb.New(at), Source: &eventv1.Endpoint{Address: addr},
				Payload: &eventv1.Event_FileCaptured{FileCaptured: &eventv1.FileCaptured{Sha256: sum, Name: name, Url: url}}}},
		}
		tags := []attack.Tag{{TechniqueID: "T1105", TechniqueName: name, Tactic: "command-and-control"}}
		data, err := AttackerBundle(a, events, nil, tags)
		if err != nil {
			// Only times outside what a timestamp can hold are refused.
			return
		}
		if errs := validateBundle(data); len(errs) > 0 && at.Year() >= 1 && at.Year() <= 9999 {
			t.Fatalf("invalid bundle:\n%s", strings.Join(errs, "\n"))
		}
		if _, err := AttackerMISP(a, events, nil, tags); err != nil {
			t.Fatalf("AttackerMISP: %v", err)
		}
	})
}
