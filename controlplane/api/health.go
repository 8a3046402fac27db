package api

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/store"
)

// readinessTimeout bounds one readiness check. It is below the 3 s
// timeout of the chart's probes, so a hung database reads as "not ready"
// rather than as a probe that timed out.
const readinessTimeout = 2 * time.Second

// readiness is whether this process can serve: its store completes a
// read, and whatever Config.Ready checks (Redis when replicas share state)
// passes. GET /healthz and the gRPC health service both report it, so a
// load balancer gets the same result whichever it probes.
type readiness struct {
	store store.Store
	ready func(ctx context.Context) error // nil: nothing beyond the store
	// services are the names a health check may request. The empty name
	// stands for the whole server.
	services map[string]bool
	log      zerolog.Logger
	// down is set while the last check failed. Probes come every few
	// seconds, so only the changes are logged.
	down atomic.Bool
}

var _ grpchealth.Checker = (*readiness)(nil)

// check returns why the process cannot serve, or nil.
func (r *readiness) check(ctx context.Context) error {
	checkCtx, cancel := context.WithTimeout(ctx, readinessTimeout)
	defer cancel()
	err := r.store.Ping(checkCtx)
	if err == nil && r.ready != nil {
		err = r.ready(checkCtx)
	}
	// A prober that hung up reveals nothing about the dependencies, so the
	// state and the log stay as they were.
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		if !r.down.Swap(true) {
			r.log.Warn().Err(err).Msg("not ready")
		}
		return err
	}
	if r.down.Swap(false) {
		r.log.Info().Msg("ready again")
	}
	return nil
}

// Check serves grpc.health.v1.Health/Check. Every service of the API
// depends on the same store, so each reports the readiness of the whole
// process. An unknown name is NotFound, as the gRPC health protocol
// requires.
func (r *readiness) Check(ctx context.Context, req *grpchealth.CheckRequest) (*grpchealth.CheckResponse, error) {
	if req.Service != "" && !r.services[req.Service] {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("unknown service %q", req.Service))
	}
	status := grpchealth.StatusServing
	if r.check(ctx) != nil {
		// Not serving is the result of the check, not a failure of it.
		status = grpchealth.StatusNotServing
	}
	return &grpchealth.CheckResponse{Status: status}, nil
}

// serveHealthz serves GET /healthz: 200 when ready, else 503. The body
// leaves out the cause, which may name internal addresses, and the log
// records it.
func (r *readiness) serveHealthz(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if r.check(req.Context()) != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("not ready\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}
