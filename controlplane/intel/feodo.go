package intel

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// DefaultFeodoURL is Feodo Tracker's recommended botnet C2 IP blocklist
// in JSON. The CSV (ipblocklist.csv) and plain text (ipblocklist.txt)
// forms are read as well.
const DefaultFeodoURL = "https://feodotracker.abuse.ch/downloads/ipblocklist.json"

// DefaultFeodoRefresh re-downloads the list twice an hour. The interval
// is an estimate: fresh enough for a C2 list, and gentle on abuse.ch.
const DefaultFeodoRefresh = 30 * time.Minute

// FeodoConfig configures the Feodo Tracker list.
type FeodoConfig struct {
	// URL overrides DefaultFeodoURL. A body starting with '[' is read as
	// JSON, anything else as the CSV or one-address-per-line text form.
	URL string
	// Refresh overrides DefaultFeodoRefresh.
	Refresh time.Duration
	HTTP    HTTPConfig
}

// NewFeodo returns the Feodo Tracker list provider, named "feodo": an
// address on the list is a botnet command-and-control server, so
// malicious.
func NewFeodo(cfg FeodoConfig) (*List, error) {
	if cfg.URL == "" {
		cfg.URL = DefaultFeodoURL
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultFeodoRefresh
	}
	l, err := newList("feodo", []string{cfg.URL}, cfg.Refresh, cfg.HTTP)
	if err != nil {
		return nil, err
	}
	l.parse = parseFeodo
	l.verdict, l.reason = VerdictMalicious, "listed as botnet C2 by Feodo Tracker"
	return l, nil
}

// parseFeodo reads either form of the blocklist.
func parseFeodo(body []byte) ([]listEntry, error) {
	if t := bytes.TrimLeft(body, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '[' {
		return parseFeodoJSON(t)
	}
	return parseFeodoCSV(body)
}

type feodoRecord struct {
	IPAddress  string          `json:"ip_address"`
	Port       json.RawMessage `json:"port"`
	Status     string          `json:"status"`
	ASNumber   json.RawMessage `json:"as_number"`
	ASName     string          `json:"as_name"`
	Country    string          `json:"country"`
	FirstSeen  string          `json:"first_seen"`
	LastOnline string          `json:"last_online"`
	Malware    string          `json:"malware"`
}

func parseFeodoJSON(body []byte) ([]listEntry, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: feodo json: %w", ErrUnexpectedResponse, err)
	}
	var out []listEntry
	for dec.More() {
		var r feodoRecord
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("%w: feodo json: %w", ErrUnexpectedResponse, err)
		}
		ip, err := netip.ParseAddr(strings.TrimSpace(r.IPAddress))
		if err != nil {
			continue
		}
		p, err := checkListPrefix(netip.PrefixFrom(ip, ip.BitLen()))
		if err != nil {
			continue
		}
		ev := map[string]string{}
		putShort(ev, "malware", r.Malware)
		putShort(ev, "status", r.Status)
		putShort(ev, "port", jsonNumber(r.Port))
		putShort(ev, "first_seen", r.FirstSeen)
		putShort(ev, "last_online", r.LastOnline)
		if len(out) == maxListEntries {
			return nil, fmt.Errorf("%w: feodo has over %d entries", ErrUnexpectedResponse, maxListEntries)
		}
		out = append(out, listEntry{prefix: p, evidence: ev})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: feodo json: %w", ErrUnexpectedResponse, err)
	}
	return out, nil
}

// jsonNumber renders a JSON number field, ignoring anything else.
func jsonNumber(raw json.RawMessage) string {
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		return ""
	}
	if _, err := strconv.ParseUint(n.String(), 10, 32); err != nil {
		return ""
	}
	return n.String()
}

// parseFeodoCSV reads the CSV form ("first_seen_utc","dst_ip",
// "dst_port","c2_status","last_online","malware" after '#' comment
// lines) and the text form (one address per line). Lines that do not
// carry an address are skipped, not fatal: the header changes more
// often than the data.
func parseFeodoCSV(body []byte) ([]listEntry, error) {
	r := csv.NewReader(bytes.NewReader(body))
	r.Comment = '#'
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.TrimLeadingSpace = true
	r.ReuseRecord = true

	var out []listEntry
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: feodo csv: %w", ErrUnexpectedResponse, err)
		}
		ipField := 0
		if len(rec) > 1 {
			ipField = 1
		}
		ip, err := netip.ParseAddr(strings.TrimSpace(rec[ipField]))
		if err != nil {
			continue
		}
		p, err := checkListPrefix(netip.PrefixFrom(ip, ip.BitLen()))
		if err != nil {
			continue
		}
		ev := map[string]string{}
		if len(rec) >= 6 {
			putShort(ev, "first_seen", rec[0])
			putShort(ev, "port", rec[2])
			putShort(ev, "status", rec[3])
			putShort(ev, "last_online", rec[4])
			putShort(ev, "malware", rec[5])
		}
		if len(out) == maxListEntries {
			return nil, fmt.Errorf("%w: feodo has over %d entries", ErrUnexpectedResponse, maxListEntries)
		}
		out = append(out, listEntry{prefix: p, evidence: ev})
	}
}
