package export

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/decnet/decnet/internal/netguard"
)

// SyslogConfig configures an RFC 5424 syslog output over TCP (framed by
// octet counting, RFC 6587 section 3.4.1) or TLS (RFC 5425, same
// framing).
type SyslogConfig struct {
	// Address is host:port of the receiver.
	Address string
	// TLS, when set, wraps the connection in TLS; nil sends plain TCP.
	// An empty ServerName defaults to the host of Address.
	TLS *tls.Config
	// Format of the MSG part: FormatJSON (default) or FormatCEF.
	Format Format
	// Hostname is the HOSTNAME field; empty means the machine's name.
	Hostname string
	// AppName is the APP-NAME field; empty means "decnet".
	AppName string
	// Facility is the syslog facility code, 0-23; zero means 16 (local0),
	// since user-level (1) or kernel (0) would mislead the receiver.
	Facility int
	// SDID names the structured-data element; it must look like
	// name@<private enterprise number>. Empty means decnet@32473, the
	// number RFC 5612 reserves for documentation, until DECNET has its
	// own.
	SDID string
	// WriteTimeout bounds one batch write; zero means 30 s.
	WriteTimeout time.Duration
}

// Syslog field limits from RFC 5424 section 6.
const (
	maxHostname = 255
	maxAppName  = 48
	maxMsgID    = 32
	maxSDName   = 32
	// facilityLocal0 is the default facility.
	facilityLocal0 = 16
	defaultSDID    = "decnet@32473"
	defaultAppName = "decnet"
)

// syslogTimeLayout is the RFC 5424 TIMESTAMP: RFC 3339 with at most six
// fractional digits.
const syslogTimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// syslogSink writes RFC 5424 messages to a TCP or TLS receiver.
type syslogSink struct {
	cfg  SyslogConfig
	conn *streamConn
	f    formatter
}

// newSyslogSink validates cfg; the connection opens on the first send.
func newSyslogSink(cfg SyslogConfig, guard *netguard.Guard, f formatter) (*syslogSink, error) {
	if cfg.Format == "" {
		cfg.Format = FormatJSON
	}
	if err := cfg.Format.validate(); err != nil {
		return nil, fmt.Errorf("syslog: %w", err)
	}
	if cfg.Facility == 0 {
		cfg.Facility = facilityLocal0
	}
	if cfg.Facility < 0 || cfg.Facility > 23 {
		return nil, fmt.Errorf("syslog: facility %d out of range 0-23", cfg.Facility)
	}
	if cfg.SDID == "" {
		cfg.SDID = defaultSDID
	}
	if err := validateSDName(cfg.SDID); err != nil {
		return nil, fmt.Errorf("syslog: %w", err)
	}
	if cfg.AppName == "" {
		cfg.AppName = defaultAppName
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	conn, err := newStreamConn(cfg.Address, cfg.TLS, guard, cfg.WriteTimeout)
	if err != nil {
		return nil, fmt.Errorf("syslog: %w", err)
	}
	return &syslogSink{cfg: cfg, conn: conn, f: f}, nil
}

// Send frames every record and writes the batch in one write.
func (s *syslogSink) Send(ctx context.Context, batch []Record) ([]Record, error) {
	var buf []byte
	for _, r := range batch {
		msg, err := s.f.syslogMessage(s.cfg, r)
		if err != nil {
			return rejectAll(batch, fmt.Errorf("format syslog message: %w", err))
		}
		buf = strconv.AppendInt(buf, int64(len(msg)), 10)
		buf = append(buf, ' ')
		buf = append(buf, msg...)
	}
	if err := s.conn.write(ctx, buf); err != nil {
		return retryAll(batch, err)
	}
	return nil, nil
}

// Close closes the connection.
func (s *syslogSink) Close() error { return s.conn.close() }

// syslogSeverity maps a CEF severity (0-10) to a syslog severity
// (0 emergency - 7 debug). Nothing a decoy sees endangers the system
// running DECNET, so the scale stops at critical.
func syslogSeverity(cef int) int {
	switch {
	case cef <= 3:
		return 6 // informational
	case cef <= 5:
		return 5 // notice
	case cef <= 7:
		return 4 // warning
	case cef <= 8:
		return 3 // error
	}
	return 2 // critical
}

// syslogMessage renders one RFC 5424 message:
//
//	<PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID [SD] MSG
//
// MSGID is the record topic, which the receiver can filter on without
// parsing the body.
func (f formatter) syslogMessage(cfg SyslogConfig, r Record) ([]byte, error) {
	body, err := f.render(cfg.Format, r)
	if err != nil {
		return nil, err
	}

	var b strings.Builder
	b.Grow(len(body) + 256)
	b.WriteByte('<')
	b.WriteString(strconv.Itoa(cfg.Facility*8 + syslogSeverity(severityOf(r))))
	b.WriteString(">1 ")
	b.WriteString(r.Time().UTC().Format(syslogTimeLayout))
	b.WriteByte(' ')
	b.WriteString(headerField(cfg.Hostname, maxHostname))
	b.WriteByte(' ')
	b.WriteString(headerField(cfg.AppName, maxAppName))
	b.WriteString(" - ")
	b.WriteString(headerField(r.Topic, maxMsgID))
	b.WriteByte(' ')
	writeSD(&b, cfg.SDID, sdParams(r))
	b.WriteByte(' ')
	b.Write(body)
	return []byte(b.String()), nil
}

// sdParam is one PARAM-NAME="PARAM-VALUE" pair.
type sdParam struct{ name, value string }

// sdParams are the fields a receiver most often routes on, so it can do
// so without parsing the body.
func sdParams(r Record) []sdParam {
	ps := []sdParam{{"id", r.ID()}, {"topic", r.Topic}}
	if n := r.Notice; n != nil {
		return append(ps, sdParam{"attacker", n.GetAttackerId()})
	}
	ev := r.Event.GetEvent()
	ps = append(ps,
		sdParam{"attacker", r.Event.GetAttackerId()},
		sdParam{"session", ev.GetSessionId()},
		sdParam{"decky", ev.GetDecky()},
		sdParam{"service", ev.GetService()},
		sdParam{"src", ev.GetSource().GetAddress()},
	)
	if p := ev.GetSource().GetPort(); p != 0 {
		ps = append(ps, sdParam{"spt", strconv.FormatUint(uint64(p), 10)})
	}
	ps = append(ps, sdParam{"dst", ev.GetDestination().GetAddress()})
	if p := ev.GetDestination().GetPort(); p != 0 {
		ps = append(ps, sdParam{"dpt", strconv.FormatUint(uint64(p), 10)})
	}
	return ps
}

// writeSD writes one SD-ELEMENT, leaving out empty values.
func writeSD(b *strings.Builder, id string, params []sdParam) {
	b.WriteByte('[')
	b.WriteString(id)
	for _, p := range params {
		if p.value == "" {
			continue
		}
		b.WriteByte(' ')
		b.WriteString(p.name)
		b.WriteString(`="`)
		b.WriteString(escapeSDValue(p.value))
		b.WriteByte('"')
	}
	b.WriteByte(']')
}

// escapeSDValue escapes '"', '\' and ']' with a backslash (RFC 5424
// section 6.3.3).
func escapeSDValue(s string) string {
	if !strings.ContainsAny(s, `"\]`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' || c == ']' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// headerField makes s a valid header field: printable US-ASCII without
// spaces, at most limit bytes, "-" when empty.
func headerField(s string, limit int) string {
	out := make([]byte, 0, min(len(s), limit))
	for i := 0; i < len(s) && len(out) < limit; i++ {
		c := s[i]
		if c < 33 || c > 126 {
			c = '_'
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return "-"
	}
	return string(out)
}

// validateSDName checks an SD-ID: 1-32 printable US-ASCII characters,
// none of '=', ' ', ']' and '"'.
func validateSDName(s string) error {
	if s == "" || len(s) > maxSDName {
		return fmt.Errorf("sd-id %q: length must be 1-%d", s, maxSDName)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 33 || c > 126 || c == '=' || c == ']' || c == '"' {
			return fmt.Errorf("sd-id %q: invalid character %q", s, c)
		}
	}
	return nil
}
