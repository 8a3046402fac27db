package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

func TestJSONRequestFields(t *testing.T) {
	f := newFixture(t, options{})
	f.ingest(t, newEvent("192.0.2.10", "auth.attempt"), newEvent("198.51.100.20", "auth.attempt"))
	header := http.Header{"Authorization": {"Bearer " + f.login(t)}}

	tests := []struct {
		name        string
		contentType string
		body        string
		// wantEvents is the number of events returned, or -1 when the
		// request is rejected.
		wantEvents int
		wantField  string
	}{
		{name: "known fields", body: `{"filter":{"sourceAddress":"192.0.2.10"}}`, wantEvents: 1},
		{name: "proto field name", body: `{"filter":{"source_address":"192.0.2.10"}}`, wantEvents: 1},
		{name: "charset content type", contentType: "application/json; charset=utf-8", body: `{"filter":{"sourceAddress":"192.0.2.10"}}`, wantEvents: 1},
		{name: "misspelled filter field", body: `{"filter":{"sorce":"192.0.2.10"}}`, wantEvents: -1, wantField: "sorce"},
		{name: "unknown top-level field", body: `{"pageSize":10,"limit":1}`, wantEvents: -1, wantField: "limit"},
		{name: "unknown field with charset", contentType: "application/json; charset=utf-8", body: `{"filter":{"sorce":"192.0.2.10"}}`, wantEvents: -1, wantField: "sorce"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := header.Clone()
			if tc.contentType != "" {
				h.Set("Content-Type", tc.contentType)
			}
			resp, body := f.postJSON(t, apiv1connect.EventServiceListEventsProcedure, tc.body, h)

			if tc.wantEvents < 0 {
				var cerr struct{ Code, Message string }
				if err := json.Unmarshal(body, &cerr); err != nil {
					t.Fatalf("decode error body %s: %v", body, err)
				}
				if resp.StatusCode != http.StatusBadRequest || cerr.Code != "invalid_argument" {
					t.Errorf("status %d, code %q; want 400 invalid_argument", resp.StatusCode, cerr.Code)
				}
				if !strings.Contains(cerr.Message, `unknown field "`+tc.wantField+`"`) {
					t.Errorf("message %q does not name the field %q", cerr.Message, tc.wantField)
				}
				return
			}

			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, body %s; want 200", resp.StatusCode, body)
			}
			var list struct {
				Events []struct {
					Event struct {
						Source struct{ Address string }
					}
				}
			}
			if err := json.Unmarshal(body, &list); err != nil {
				t.Fatalf("decode response %s: %v", body, err)
			}
			if len(list.Events) != tc.wantEvents {
				t.Fatalf("returned %d events, want %d: %s", len(list.Events), tc.wantEvents, body)
			}
			if got := list.Events[0].Event.Source.Address; got != "192.0.2.10" {
				t.Errorf("event source %q, want the filtered 192.0.2.10", got)
			}
		})
	}
}
