package controlplane

import (
	"log"
	"strings"

	"github.com/rs/zerolog"
)

// newStdLogger adapts zerolog for net/http's ErrorLog, which reports TLS
// handshake failures and malformed requests from clients.
func newStdLogger(l zerolog.Logger) *log.Logger {
	return log.New(stdWriter{l}, "", 0)
}

type stdWriter struct{ log zerolog.Logger }

func (w stdWriter) Write(p []byte) (int, error) {
	w.log.Debug().Str("detail", strings.TrimSpace(string(p))).Msg("http server error")
	return len(p), nil
}
