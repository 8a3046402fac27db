package topics

import (
	"errors"
	"testing"

	"github.com/decnet/decnet/subject"
)

func TestPublishMatchesPattern(t *testing.T) {
	p := New[int]()
	var got []string
	unsubscribe, err := p.Subscribe("agent.*.status", func(s string, msg int) {
		got = append(got, s)
	})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}

	for _, s := range []string{"agent.a.status", "agent.b.heartbeat", "agent.b.status"} {
		if err := p.Publish(s, 1); err != nil {
			t.Fatalf("publish %s: %v", s, err)
		}
	}
	if len(got) != 2 || got[0] != "agent.a.status" || got[1] != "agent.b.status" {
		t.Errorf("delivered %v, want [agent.a.status agent.b.status]", got)
	}

	if n := p.Subscribers(); n != 1 {
		t.Errorf("Subscribers() = %d, want 1", n)
	}
	unsubscribe()
	if n := p.Subscribers(); n != 0 {
		t.Errorf("Subscribers() after unsubscribe = %d, want 0", n)
	}
	if err := p.Publish("agent.c.status", 1); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if len(got) != 2 {
		t.Errorf("delivered %d messages after unsubscribe, want 2", len(got))
	}
}

func TestInvalidSubjects(t *testing.T) {
	p := New[int]()
	if _, err := p.Subscribe("agent.>.status", func(string, int) {}); !errors.Is(err, subject.ErrInvalidSubject) {
		t.Errorf("subscribe error %v, want ErrInvalidSubject", err)
	}
	if err := p.Publish("agent.*.status", 1); !errors.Is(err, subject.ErrInvalidSubject) {
		t.Errorf("publish error %v, want ErrInvalidSubject", err)
	}
}
