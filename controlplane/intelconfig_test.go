package controlplane

import (
	"errors"
	"slices"
	"testing"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/intel"
)

func TestIntelRDNSOnlyWhenEnabled(t *testing.T) {
	off, err := newEnricher(IntelConfig{RDNSServer: "127.0.0.53:53"}, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if names := off.ProviderNames(); len(names) != 0 {
		t.Fatalf("providers without --intel-rdns = %v, want none", names)
	}

	on, err := newEnricher(IntelConfig{RDNS: true, RDNSServer: "[::1]:5353", RDNSForwardConfirm: true}, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if names := on.ProviderNames(); !slices.Equal(names, []string{"rdns"}) {
		t.Fatalf("providers = %v, want [rdns]", names)
	}

	_, err = newEnricher(IntelConfig{RDNS: true, RDNSServer: "dns.example.com:53"}, nil, zerolog.Nop())
	if !errors.Is(err, intel.ErrInvalidConfig) {
		t.Fatalf("resolver by name = %v, want ErrInvalidConfig", err)
	}
}
