package identity

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

const castHeader = `{"version":2,"width":80,"height":24,"timestamp":0,"env":{"SHELL":"/bin/bash","TERM":"xterm"}}` + "\n"

// castOf writes a cast whose input events carry text[i] at times[i].
func castOf(times []float64, text []string) []byte {
	var b strings.Builder
	b.WriteString(castHeader)
	b.WriteString(`[0.0, "o", "root@web01:~# "]` + "\n")
	for i := range times {
		q, _ := json.Marshal(text[i])
		fmt.Fprintf(&b, "[%f, \"i\", %s]\n", times[i], q)
	}
	return []byte(b.String())
}

func TestKeystrokesFromCast(t *testing.T) {
	// Keys at 1.0, 1.1 and 1.3 give intervals of 100 and 200 ms. A think
	// pause of 3 s and a paste follow. The paste breaks the run, so keys at
	// 4.5 and 4.9 give one interval of 400 ms, and an arrow key escape
	// sequence at 5.7 gives 800 ms.
	times := []float64{1.0, 1.1, 1.3, 4.3, 4.5, 4.9, 5.7}
	text := []string{"l", "s", "\r", "wget http://x/y\r", "i", "d", "\x1b[A"}
	k, err := KeystrokesFromCast(castOf(times, text))
	if err != nil {
		t.Fatal(err)
	}
	if k.Keys != 6 || k.Pastes != 1 || k.PasteChars != 16 || k.ThinkPauses != 1 || k.Intervals != 4 {
		t.Errorf("counts %+v, want 6 keys, 1 paste of 16 chars, 1 think pause, 4 intervals", k)
	}
	wantMean := (math.Log(100) + math.Log(200) + math.Log(400) + math.Log(800)) / 4
	if math.Abs(k.MeanLog-wantMean) > 1e-6 {
		t.Errorf("MeanLog = %v, want %v", k.MeanLog, wantMean)
	}
	// Intervals are evenly spaced in log: 100·2^i, so the deviation is
	// ln 2 · sqrt(1.25).
	if want := math.Ln2 * math.Sqrt(1.25); math.Abs(k.StdLog-want) > 1e-6 {
		t.Errorf("StdLog = %v, want %v", k.StdLog, want)
	}
	if math.Abs(k.P25MS-200) > 1e-6 || math.Abs(k.MedianMS-400) > 1e-6 || math.Abs(k.P75MS-800) > 1e-6 || math.Abs(k.P90MS-800) > 1e-6 {
		t.Errorf("p25 %v median %v p75 %v p90 %v, want 200, 400, 800, 800", k.P25MS, k.MedianMS, k.P75MS, k.P90MS)
	}
}

// TestKeystrokesIgnoreContent proves that typed content never reaches the
// features: two recordings with the same timing and line ends and
// different text give identical features, and the features hold numbers
// only.
func TestKeystrokesIgnoreContent(t *testing.T) {
	times := []float64{0.5, 0.62, 0.81, 0.9, 1.2, 1.31, 1.5, 4.0}
	secret := []string{"h", "u", "n", "t", "e", "r", "2", "\r"}
	other := []string{"a", "a", "a", "a", "a", "a", "a", "\r"}
	a, err := KeystrokesFromCast(castOf(times, secret))
	if err != nil {
		t.Fatal(err)
	}
	b, err := KeystrokesFromCast(castOf(times, other))
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("features depend on the text typed:\n%+v\n%+v", a, b)
	}
	if a.Keys != 8 || a.Intervals != 6 {
		t.Errorf("keys %d intervals %d, want 8 and 6", a.Keys, a.Intervals)
	}

	typ := reflect.TypeOf(a)
	for i := range typ.NumField() {
		switch typ.Field(i).Type.Kind() {
		case reflect.Int, reflect.Float64, reflect.Uint64:
		default:
			t.Errorf("field %s has kind %s; features must be numbers", typ.Field(i).Name, typ.Field(i).Type.Kind())
		}
	}
	if s := fmt.Sprintf("%+v", a); strings.Contains(s, "hunter") {
		t.Errorf("features print the typed text: %s", s)
	}
}

// TestKeystrokesLineEnds checks that the gap after Enter (reading output)
// is not an inter-key interval, whichever line end the client sends.
func TestKeystrokesLineEnds(t *testing.T) {
	for _, enter := range []string{"\r", "\n", "\r\n"} {
		t.Run(fmt.Sprintf("%q", enter), func(t *testing.T) {
			// "id" Enter, 1.5 s reading, then "w" Enter: intervals 100,
			// 200 and 300 ms within the lines, the 1.5 s gap dropped.
			times := []float64{1.0, 1.1, 1.3, 2.8, 3.1}
			text := []string{"i", "d", enter, "w", enter}
			k, err := KeystrokesFromCast(castOf(times, text))
			if err != nil {
				t.Fatal(err)
			}
			if k.Keys != 5 {
				t.Errorf("keys = %d, want 5", k.Keys)
			}
			if k.Intervals != 3 {
				t.Errorf("intervals = %d, want 3", k.Intervals)
			}
			if math.Abs(k.MedianMS-200) > 1e-6 {
				t.Errorf("median = %v ms, want 200", k.MedianMS)
			}
			if math.Abs(k.P90MS-300) > 1e-6 {
				t.Errorf("p90 = %v ms, want 300", k.P90MS)
			}
		})
	}
}

func TestKeystrokesFromCastRejects(t *testing.T) {
	for name, cast := range map[string]string{
		"empty":       "",
		"not json":    "hello\n",
		"version one": `{"version":1}` + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := KeystrokesFromCast([]byte(cast)); !errors.Is(err, ErrCast) {
				t.Errorf("error %v, want ErrCast", err)
			}
		})
	}
}

func TestKeystrokesSkipMalformedEvents(t *testing.T) {
	cast := castHeader +
		`[0.1, "i", "a"]` + "\n" +
		`not an event` + "\n" +
		`[-1, "i", "b"]` + "\n" +
		`[0.2, "i"]` + "\n" +
		`[0.3, "i", 7]` + "\n" +
		`[0.4, "i", "c"]` + "\n"
	k, err := KeystrokesFromCast([]byte(cast))
	if err != nil {
		t.Fatal(err)
	}
	if k.Keys != 2 || k.Intervals != 1 || math.Abs(k.MedianMS-300) > 1e-6 {
		t.Errorf("got %+v, want 2 keys and one 300 ms interval", k)
	}
}

func TestCompareKeystrokes(t *testing.T) {
	w := Frozen
	base := Keystrokes{Intervals: 100, MeanLog: math.Log(150), StdLog: 0.4, DigraphSimHash: 0xffff0000ffff0000}
	same := base
	same.MeanLog += 0.05
	same.DigraphSimHash ^= 0xff // 8 bits apart
	slower := base
	slower.MeanLog += 0.6
	short := base
	short.Intervals = w.KeystrokeMinIntervals - 1
	tests := []struct {
		name string
		b    Keystrokes
		want KeystrokeVerdict
	}{
		{"same typist", same, KeystrokeSame},
		{"much slower", slower, KeystrokeDifferent},
		{"too short", short, KeystrokeUnknown},
	}
	for _, tc := range tests {
		if got := CompareKeystrokes(base, tc.b, w); got != tc.want {
			t.Errorf("%s: verdict %d, want %d", tc.name, got, tc.want)
		}
	}
}

func FuzzKeystrokesFromCast(f *testing.F) {
	f.Add(castOf([]float64{0.1, 0.2, 3.0}, []string{"a", "bcdef", "\x1b[A"}))
	f.Add([]byte(castHeader + `[1e308, "i", "x"]` + "\n" + `[0.1, "i", "\ud800"]` + "\n"))
	f.Fuzz(func(t *testing.T, cast []byte) {
		k, err := KeystrokesFromCast(cast)
		if err != nil {
			return
		}
		lines := strings.Count(string(cast), "\n") + 1
		if k.Keys+k.Pastes > lines || k.Intervals > k.Keys {
			t.Errorf("counts %+v exceed the %d lines", k, lines)
		}
		if math.IsNaN(k.MeanLog) || math.IsNaN(k.StdLog) || k.StdLog < 0 {
			t.Errorf("statistics not finite: %+v", k)
		}
	})
}
