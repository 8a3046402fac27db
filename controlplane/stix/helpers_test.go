package stix

import (
	"crypto/sha256"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/attack"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

const attackerID = "0190a8c4-0000-7000-8000-00000000a77c"

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

// secretPassword must never appear in an export, in any form.
const secretPassword = "Sup3rS3cret!"

func fixtureAttacker() *apiv1.Attacker {
	return &apiv1.Attacker{
		Id: attackerID, Addresses: []string{"198.51.100.7", "2001:db8::7"},
		FirstSeen: timestamppb.New(t0), LastSeen: timestamppb.New(t0.Add(2 * time.Hour)),
		EventCount: 42, AuthAttemptCount: 30, Services: []string{"ssh", "http"}, Deckies: []string{"web-01"},
	}
}

func stored(ev *eventv1.Event, at time.Time) *apiv1.StoredEvent {
	ev.Time = timestamppb.New(at)
	if ev.Source == nil {
		ev.Source = &eventv1.Endpoint{Address: "198.51.100.7", Port: 40000}
	}
	ev.Destination = &eventv1.Endpoint{Address: "127.0.0.1", Port: 22}
	return &apiv1.StoredEvent{Event: ev, AttackerId: attackerID, ReceivedAt: timestamppb.New(at)}
}

func fixtureEvents() []*apiv1.StoredEvent {
	sum := sha256.Sum256([]byte(secretPassword))
	fileSum := sha256.Sum256([]byte("ELF payload"))
	return []*apiv1.StoredEvent{
		stored(&eventv1.Event{Id: "e1", Kind: "auth.attempt", Service: "ssh", Decky: "web-01",
			Payload: &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{
				Principal: "root", SecretKind: "plaintext", Mechanism: "ssh_password",
				Secret: []byte(secretPassword), SecretSha256: sum[:], Outcome: eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED,
			}}}, t0.Add(time.Minute)),
		stored(&eventv1.Event{Id: "e2", Kind: "download.requested", Service: "ssh", Decky: "web-01",
			Payload: &eventv1.Event_DownloadRequested{DownloadRequested: &eventv1.DownloadRequested{
				Url: "http://203.0.113.5/bins/x86?a=1&b=2", Tool: "wget", Outcome: "not_fetched",
			}}}, t0.Add(2*time.Minute)),
		stored(&eventv1.Event{Id: "e3", Kind: "file.captured", Service: "ftp", Decky: "web-01",
			Payload: &eventv1.Event_FileCaptured{FileCaptured: &eventv1.FileCaptured{
				Sha256: fileSum[:], Size: 11, Name: "x86", Channel: "ftp_stor", Stored: true,
			}}}, t0.Add(3*time.Minute)),
		stored(&eventv1.Event{Id: "e4", Kind: "connection.opened", Service: "http", Decky: "web-01",
			Source:  &eventv1.Endpoint{Address: "2001:db8::7", Port: 40001},
			Payload: &eventv1.Event_ConnectionOpened{ConnectionOpened: &eventv1.ConnectionOpened{Transport: "tcp"}}},
			t0.Add(time.Hour)),
		// Another attacker's event must not leak into this export.
		{Event: &eventv1.Event{Id: "other", Kind: "auth.attempt", Source: &eventv1.Endpoint{Address: "192.0.2.99"},
			Payload: &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{Principal: "intruder"}}},
			AttackerId: "someone-else"},
	}
}

func fixtureCreds() []*apiv1.Credential {
	sum := sha256.Sum256([]byte(secretPassword))
	return []*apiv1.Credential{{
		EventId: "e1", AttackerId: attackerID, Time: timestamppb.New(t0.Add(time.Minute)),
		Decky: "web-01", Service: "ssh", Principal: "admin", SecretKind: "plaintext", Mechanism: "ssh_password",
		Secret: []byte(secretPassword), SecretSha256: sum[:], SourceAddress: "198.51.100.7",
	}}
}

func fixtureTags() []attack.Tag {
	return []attack.Tag{
		{RuleID: "valid-accounts", TechniqueID: "T1078", TechniqueName: "Valid Accounts", Tactic: "initial-access"},
		{RuleID: "password-guessing", TechniqueID: "T1110.001", TechniqueName: "Brute Force: Password Guessing", Tactic: "credential-access"},
		{RuleID: "ingress-download-request", TechniqueID: "T1105", TechniqueName: "Ingress Tool Transfer", Tactic: "command-and-control"},
		{RuleID: "ingress-upload", TechniqueID: "T1105", TechniqueName: "Ingress Tool Transfer", Tactic: "command-and-control"},
	}
}

func fixtureReuse() *apiv1.CredentialReuse {
	sum := sha256.Sum256([]byte(secretPassword))
	return &apiv1.CredentialReuse{SecretSha256: sum[:], SecretKind: "plaintext", Principal: "deploy",
		Targets: []*apiv1.CredentialTarget{
			{Decky: "web-01", Service: "ssh", FirstSeen: timestamppb.New(t0), LastSeen: timestamppb.New(t0.Add(time.Hour)),
				Attempts: 3, AttackerIds: []string{attackerID}, Mechanisms: []string{"ssh_password"}},
			{Decky: "db-01", Service: "ftp", FirstSeen: timestamppb.New(t0.Add(time.Minute)), LastSeen: timestamppb.New(t0.Add(2 * time.Hour)),
				Attempts: 1, AttackerIds: []string{attackerID, "0190a8c4-0000-7000-8000-00000000b0b0"}, Mechanisms: []string{"ftp_pass"}},
		}}
}

func objectsByType(bundle map[string]any) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for _, o := range bundle["objects"].([]any) {
		obj := o.(map[string]any)
		out[obj["type"].(string)] = append(out[obj["type"].(string)], obj)
	}
	return out
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
