package intel

import (
	"bytes"
	"encoding/binary"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// This file writes small MaxMind DB files for the GeoIP tests, following
// the format specification (https://maxmind.github.io/MaxMind-DB/): a
// binary search tree of 24-bit records, a 16-byte separator, the data
// section, then the metadata after its marker. It supports only the
// types the tests need and IPv4 trees.

type mmdbMap map[string]any

// mmdbEncode appends one value in the MaxMind DB data encoding.
func mmdbEncode(t *testing.T, buf *bytes.Buffer, v any) {
	t.Helper()
	switch v := v.(type) {
	case string:
		mmdbControl(buf, 2, len(v))
		buf.WriteString(v)
	case float64:
		mmdbControl(buf, 3, 8)
		_ = binary.Write(buf, binary.BigEndian, math.Float64bits(v))
	case uint16:
		mmdbUint(buf, 5, uint64(v))
	case uint32:
		mmdbUint(buf, 6, uint64(v))
	case uint64:
		mmdbUint(buf, 9, v)
	case mmdbMap:
		mmdbControl(buf, 7, len(v))
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			mmdbEncode(t, buf, k)
			mmdbEncode(t, buf, v[k])
		}
	case []string:
		mmdbControl(buf, 11, len(v))
		for _, s := range v {
			mmdbEncode(t, buf, s)
		}
	default:
		t.Fatalf("mmdb writer: unsupported type %T", v)
	}
}

func mmdbUint(buf *bytes.Buffer, typ int, v uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	n := 8
	for n > 0 && b[8-n] == 0 {
		n--
	}
	mmdbControl(buf, typ, n)
	buf.Write(b[8-n:])
}

// mmdbControl writes a control byte: type in the top three bits (types
// above 7 as an extended type byte after it), size in the low five, with
// the spec's one- to three-byte size extensions.
func mmdbControl(buf *bytes.Buffer, typ, size int) {
	var ctrl byte
	if typ <= 7 {
		ctrl = byte(typ) << 5
	}
	var ext []byte
	switch {
	case size < 29:
		ctrl |= byte(size)
	case size < 285:
		ctrl |= 29
		ext = []byte{byte(size - 29)}
	case size < 65821:
		ctrl |= 30
		s := size - 285
		ext = []byte{byte(s >> 8), byte(s)}
	default:
		ctrl |= 31
		s := size - 65821
		ext = []byte{byte(s >> 16), byte(s >> 8), byte(s)}
	}
	buf.WriteByte(ctrl)
	if typ > 7 {
		buf.WriteByte(byte(typ - 7))
	}
	buf.Write(ext)
}

// writeMMDB writes an IPv4 database mapping each prefix to its record
// and returns its path.
func writeMMDB(t *testing.T, dbType string, records map[netip.Prefix]mmdbMap) string {
	t.Helper()
	const noData = -1

	// Data section first, so tree records can point into it.
	var data bytes.Buffer
	offsets := map[netip.Prefix]int{}
	prefixes := make([]netip.Prefix, 0, len(records))
	for p := range records {
		prefixes = append(prefixes, p)
	}
	sort.Slice(prefixes, func(i, j int) bool { return prefixes[i].String() < prefixes[j].String() })
	for _, p := range prefixes {
		offsets[p] = data.Len()
		mmdbEncode(t, &data, records[p])
	}

	// Tree: node i has two records. A record is a node index (>0), or a
	// data reference (marked by dataRef), or empty.
	type rec struct {
		node    int
		dataOff int
	}
	nodes := [][2]rec{{{dataOff: noData}, {dataOff: noData}}}
	for _, p := range prefixes {
		a := p.Addr().As4()
		bits := binary.BigEndian.Uint32(a[:])
		n := 0
		for depth := 0; depth < p.Bits(); depth++ {
			bit := (bits >> (31 - depth)) & 1
			if depth == p.Bits()-1 {
				nodes[n][bit] = rec{dataOff: offsets[p]}
				break
			}
			if nodes[n][bit].node == 0 {
				nodes = append(nodes, [2]rec{{dataOff: noData}, {dataOff: noData}})
				nodes[n][bit] = rec{node: len(nodes) - 1, dataOff: noData}
			}
			n = nodes[n][bit].node
		}
	}

	count := len(nodes)
	var out bytes.Buffer
	for _, nd := range nodes {
		for _, r := range nd {
			v := count // empty: "no data"
			switch {
			case r.node > 0:
				v = r.node
			case r.dataOff != noData:
				v = count + 16 + r.dataOff
			}
			out.Write([]byte{byte(v >> 16), byte(v >> 8), byte(v)})
		}
	}
	out.Write(make([]byte, 16))
	out.Write(data.Bytes())
	out.WriteString("\xab\xcd\xefMaxMind.com")
	mmdbEncode(t, &out, mmdbMap{
		"node_count":                  uint32(count),
		"record_size":                 uint16(24),
		"ip_version":                  uint16(4),
		"database_type":               dbType,
		"languages":                   []string{"en"},
		"binary_format_major_version": uint16(2),
		"binary_format_minor_version": uint16(0),
		"build_epoch":                 uint64(1764547200),
		"description":                 mmdbMap{"en": "DECNET test database"},
	})

	path := filepath.Join(t.TempDir(), dbType+".mmdb")
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatalf("write mmdb: %v", err)
	}
	return path
}
