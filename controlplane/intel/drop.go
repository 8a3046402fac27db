package intel

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"
)

// Spamhaus DROP (Don't Route Or Peer) lists, in the current JSON-lines
// form. The legacy text form (drop.txt, "cidr ; SBL id" with ';'
// comments) is read as well.
const (
	DefaultDROPv4URL = "https://www.spamhaus.org/drop/drop_v4.json"
	DefaultDROPv6URL = "https://www.spamhaus.org/drop/drop_v6.json"
)

// DefaultDROPRefresh re-downloads DROP twice a day. Spamhaus requires
// automated downloads to be at least an hour apart, and the list changes
// slowly.
const DefaultDROPRefresh = 12 * time.Hour

// maxDROPLine caps one line of either form. Real lines are under 200
// bytes, the metadata line included.
const maxDROPLine = 4 << 10

// DROPConfig configures the Spamhaus DROP list.
type DROPConfig struct {
	// URLs override DefaultDROPv4URL and DefaultDROPv6URL. A body whose
	// first line starts with '{' is read as JSON lines, anything else as
	// the text form.
	URLs []string
	// Refresh overrides DefaultDROPRefresh.
	Refresh time.Duration
	HTTP    HTTPConfig
}

// NewDROP returns the Spamhaus DROP provider, named "spamhaus_drop": a
// listed network is run by or hijacked for criminals, so an address in
// it is malicious.
func NewDROP(cfg DROPConfig) (*List, error) {
	if len(cfg.URLs) == 0 {
		cfg.URLs = []string{DefaultDROPv4URL, DefaultDROPv6URL}
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultDROPRefresh
	}
	l, err := newList("spamhaus_drop", cfg.URLs, cfg.Refresh, cfg.HTTP)
	if err != nil {
		return nil, err
	}
	l.parse = parseDROP
	l.verdict, l.reason = VerdictMalicious, "network on Spamhaus DROP"
	return l, nil
}

func parseDROP(body []byte) ([]listEntry, error) {
	if t := bytes.TrimLeft(body, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '{' {
		return parseDROPJSON(t)
	}
	return parseDROPText(body)
}

// parseDROPJSON reads one object per line: {"cidr":..,"sblid":..,
// "rir":..} for entries and {"type":"metadata",...} last.
func parseDROPJSON(body []byte) ([]listEntry, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var out []listEntry
	for {
		var r struct {
			Type  string `json:"type"`
			CIDR  string `json:"cidr"`
			SBLID string `json:"sblid"`
			RIR   string `json:"rir"`
		}
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: drop json: %w", ErrUnexpectedResponse, err)
		}
		if r.Type != "" || r.CIDR == "" {
			continue
		}
		e, ok := dropEntry(r.CIDR, r.SBLID)
		if !ok {
			continue
		}
		putShort(e.evidence, "rir", r.RIR)
		if len(out) == maxListEntries {
			return nil, fmt.Errorf("%w: drop has over %d entries", ErrUnexpectedResponse, maxListEntries)
		}
		out = append(out, e)
	}
}

// parseDROPText reads "1.10.16.0/20 ; SBL256894" lines; lines starting
// with ';' are comments.
func parseDROPText(body []byte) ([]listEntry, error) {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 512), maxDROPLine)
	var out []listEntry
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == ';' || line[0] == '#' {
			continue
		}
		cidr, ref, _ := strings.Cut(line, ";")
		e, ok := dropEntry(cidr, ref)
		if !ok {
			continue
		}
		if len(out) == maxListEntries {
			return nil, fmt.Errorf("%w: drop has over %d entries", ErrUnexpectedResponse, maxListEntries)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: drop text: %w", ErrUnexpectedResponse, err)
	}
	return out, nil
}

func dropEntry(cidr, sblid string) (listEntry, bool) {
	p, err := netip.ParsePrefix(strings.TrimSpace(cidr))
	if err != nil {
		return listEntry{}, false
	}
	p, err = checkListPrefix(p)
	if err != nil {
		return listEntry{}, false
	}
	ev := map[string]string{}
	putShort(ev, "sblid", sblid)
	return listEntry{prefix: p, evidence: ev}, true
}
