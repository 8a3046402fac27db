package main

import (
	"testing"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// What an attacker typed reaches the terminal with its escape sequences
// shown, not run.
func TestEventDetailEscapesControls(t *testing.T) {
	for want, ev := range map[string]*eventv1.Event{
		`ls\x1b[2J\x1b]0;x\x07`: {Payload: &eventv1.Event_Command{Command: &eventv1.Command{Line: "ls\x1b[2J\x1b]0;x\x07"}}},
		`ssh_password r\x1boot AUTH_OUTCOME_REJECTED`: {Payload: &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{
			Mechanism: "ssh_password", Principal: "r\x1boot", Outcome: eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED,
		}}},
		`GET /\x0d\x0aX: y 400`: {Payload: &eventv1.Event_HttpRequest{HttpRequest: &eventv1.HTTPRequest{Method: "GET", Target: "/\r\nX: y", Status: 400}}},
		`SSH-2.0-Go\x07 0123`:   {Payload: &eventv1.Event_ClientFingerprinted{ClientFingerprinted: &eventv1.ClientFingerprint{SshClientVersion: "SSH-2.0-Go\a", Hassh: "0123"}}},
	} {
		if got := eventDetail(ev); got != want {
			t.Errorf("eventDetail = %q, want %q", got, want)
		}
	}
}
