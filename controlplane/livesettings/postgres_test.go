//go:build integration

package livesettings

import (
	"context"
	"os"
	"testing"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/store/postgres"
	"github.com/decnet/decnet/internal/pgtest"
)

func TestMain(m *testing.M) {
	os.Exit(pgtest.Main(m))
}

// The overrides travel between replicas through PostgreSQL as through
// SQLite.
func TestUpdatePersistsAcrossReplicasPostgres(t *testing.T) {
	st, err := postgres.Open(context.Background(), pgtest.NewDatabase(t), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	testPersistsAcrossReplicas(t, st)
}
