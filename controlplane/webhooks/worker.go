package webhooks

import (
	"context"
	"fmt"
	"sync"
	"time"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// worker delivers one subscription's notices in order on its own
// goroutine, so a slow or dead receiver holds up only its own queue.
type worker struct {
	id      string
	queue   chan item
	breaker *breaker
	// cancel stops the goroutine; nil until started. Guarded by
	// Dispatcher.mu.
	cancel context.CancelFunc

	mu sync.Mutex
	st subState

	// Used by the worker goroutine only.
	bucket *bucket
	groups map[string]*group
}

// item is one queued delivery.
type item struct {
	msg message
	// replay marks a dead letter sent again: it skips suppression and
	// grouping, which it went through the first time.
	replay bool
}

// group is the quiet period of one attacker in one subscription.
type group struct {
	until time.Time
	inc   Incident
}

func (w *worker) state() subState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.st
}

func (w *worker) setState(st subState) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.st = st
}

// work is the worker's loop.
func (d *Dispatcher) work(ctx context.Context, w *worker) {
	for {
		var wake <-chan time.Time
		if next, ok := w.nextClose(); ok {
			wake = d.cfg.Clock.After(max(0, next.Sub(d.cfg.Clock.Now())))
		}
		select {
		case <-ctx.Done():
			return
		case it := <-w.queue:
			d.handle(ctx, w, it)
		case <-wake:
			d.closeGroups(ctx, w)
		}
	}
}

func (w *worker) nextClose() (time.Time, bool) {
	var next time.Time
	for _, g := range w.groups {
		if next.IsZero() || g.until.Before(next) {
			next = g.until
		}
	}
	return next, !next.IsZero()
}

// handle applies grouping to it, then delivers it. Suppression happened
// in intake, before the item took a place in the queue.
func (d *Dispatcher) handle(ctx context.Context, w *worker, it item) {
	st := w.state()
	now := d.cfg.Clock.Now()
	if !it.replay {
		if !st.rec.Enabled {
			return
		}
		if d.group(w, it.msg, now) {
			return
		}
	}
	d.deliver(ctx, w, st, it)
}

// group reports whether m was held back in an open quiet period, and
// opens one when m is the first about its attacker.
func (d *Dispatcher) group(w *worker, m message, now time.Time) bool {
	attacker := m.notice.GetAttackerId()
	if d.cfg.QuietPeriod < 0 || attacker == "" || m.incident != nil {
		return false
	}
	if g, ok := w.groups[attacker]; ok {
		g.inc.add(m.notice)
		d.metrics.grouped.Inc()
		return true
	}
	if len(w.groups) < maxGroups {
		w.groups[attacker] = &group{until: now.Add(d.cfg.QuietPeriod), inc: Incident{AttackerID: attacker}}
	}
	return false
}

// closeGroups ends the quiet periods due and delivers one follow-up for
// each that held notices back.
func (d *Dispatcher) closeGroups(ctx context.Context, w *worker) {
	now := d.cfg.Clock.Now()
	for attacker, g := range w.groups {
		if g.until.After(now) {
			continue
		}
		delete(w.groups, attacker)
		if g.inc.Count == 0 {
			continue
		}
		st := w.state()
		if !st.rec.Enabled {
			continue
		}
		inc := g.inc
		msg := message{notice: inc.notice(newID(), now, d.cfg.QuietPeriod), incident: &inc}
		d.deliver(ctx, w, st, item{msg: msg})
	}
}

// deliver sends one item through the breaker, the rate limit and the
// retries, and dead-letters it when that fails.
func (d *Dispatcher) deliver(ctx context.Context, w *worker, st subState, it item) {
	n := it.msg.notice
	dead := func(reason string, attempts int, r result) {
		if _, ok := d.worker(w.id); !ok {
			// Deleted meanwhile: its dead letters went with it.
			return
		}
		d.metrics.deadLetters.WithLabelValues(reason).Inc()
		d.storeDeadLetter(ctx, DeadLetter{
			SubscriptionID: w.id, Notice: n, Incident: it.msg.incident, Reason: reason,
			Attempts: attempts, StatusCode: r.status, Error: r.errText,
		})
	}

	body, err := render(st.rec.Format, it.msg)
	if err != nil {
		dead(ReasonRender, 0, result{errText: err.Error()})
		return
	}
	ok, probe := w.breaker.allow(d.cfg.Clock.Now())
	if !ok {
		dead(ReasonCircuitOpen, 0, result{})
		return
	}
	if !d.waitForToken(ctx, w, st) {
		return
	}

	maxAttempts := d.cfg.MaxAttempts
	if probe {
		maxAttempts = 1
	}
	for attempt := 1; ; attempt++ {
		r := d.attempt(ctx, st, n, body)
		now := d.cfg.Clock.Now()
		if !r.ok && ctx.Err() != nil {
			// Stopping, not the receiver's fault: keep the breaker as
			// it is and the notice for a replay.
			dead(ReasonShutdown, attempt, r)
			return
		}
		if r.ok {
			w.breaker.success()
			d.audit(ctx, w.id, n, attempt, OutcomeDelivered, r, false)
			return
		}
		open := w.breaker.failure(now)
		var reason string
		switch {
		case r.refused:
			reason = ReasonRefused
		case r.final:
			reason = ReasonFinalStatus
		case open:
			reason = ReasonCircuitOpen
		case attempt >= maxAttempts:
			reason = ReasonAttemptsExhausted
		}
		if reason != "" {
			d.audit(ctx, w.id, n, attempt, OutcomeFailed, r, false)
			d.log.Warn().Str(fieldSubscription, w.id).Str(fieldNotice, n.GetId()).Int(fieldStatus, r.status).
				Int(fieldAttempt, attempt).Str(fieldReason, reason).Str("error", r.errText).Msg("webhook delivery failed")
			dead(reason, attempt, r)
			return
		}
		d.audit(ctx, w.id, n, attempt, OutcomeRetry, r, false)

		wait := d.backoff(attempt)
		if r.hasRetryAfter {
			wait = r.retryAfter
		}
		if !d.sleep(ctx, wait) {
			dead(ReasonShutdown, attempt, r)
			return
		}
	}
}

// waitForToken blocks until the rate limit allows a delivery. It
// returns false when ctx ends first; the item is then dropped with the
// rest of the queue.
func (d *Dispatcher) waitForToken(ctx context.Context, w *worker, st subState) bool {
	if w.bucket == nil || w.bucket.perMinute != st.rec.RateLimit {
		w.bucket = newBucket(st.rec.RateLimit, d.cfg.Clock.Now())
	}
	for {
		wait := w.bucket.take(d.cfg.Clock.Now())
		if wait == 0 {
			return true
		}
		if !d.sleep(ctx, wait) {
			return false
		}
	}
}

// backoff is the delay after failed attempt n (from 1): MinBackoff
// doubling up to MaxBackoff, jittered.
func (d *Dispatcher) backoff(n int) time.Duration {
	wait := d.cfg.MinBackoff
	for i := 1; i < n && wait < d.cfg.MaxBackoff; i++ {
		wait *= 2
	}
	return d.jitter(min(wait, d.cfg.MaxBackoff))
}

func (d *Dispatcher) sleep(ctx context.Context, wait time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-d.cfg.Clock.After(wait):
		return true
	}
}

func (d *Dispatcher) audit(ctx context.Context, subID string, n *apiv1.Notice, attempt int, o Outcome, r result, test bool) Delivery {
	d.metrics.attempts.WithLabelValues(string(o)).Inc()
	del := Delivery{
		ID: newID(), SubscriptionID: subID, NoticeID: n.GetId(), Subject: n.GetSubject(), Attempt: attempt,
		Time: r.start.UTC(), StatusCode: r.status, Duration: r.duration, Outcome: o, Error: r.errText, Test: test,
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := d.cfg.Store.AddDelivery(sctx, del); err != nil {
		d.log.Warn().Err(err).Str(fieldSubscription, subID).Str(fieldNotice, n.GetId()).Msg("write webhook audit entry failed")
	}
	return del
}

// Test sends a webhook.test notice to the subscription once, now, and
// returns the attempt. The breaker, the rate limit and the dead letters
// are left alone: a test is a diagnosis, not traffic. The attempt is in
// the audit log, marked as a test.
func (d *Dispatcher) Test(ctx context.Context, id string) (Delivery, error) {
	r, err := d.cfg.Store.GetSubscription(ctx, id)
	if err != nil {
		return Delivery{}, fmt.Errorf("test webhook: %w", err)
	}
	st, err := d.open(r)
	if err != nil {
		return Delivery{}, fmt.Errorf("test webhook: %w", err)
	}
	n := testNotice(newID(), r.Name, d.cfg.Clock.Now())
	body, err := render(r.Format, message{notice: n})
	if err != nil {
		return Delivery{}, fmt.Errorf("test webhook: %w", err)
	}
	res := d.attempt(ctx, st, n, body)
	outcome := OutcomeDelivered
	if !res.ok {
		outcome = OutcomeFailed
	}
	return d.audit(ctx, r.ID, n, 1, outcome, res, true), nil
}

// ReplayDeadLetters queues dead letters of a subscription again: the one
// with deadLetterID, or as many as the queue has room for when it is
// empty. It returns how many were queued. An open breaker moves to
// half-open, so the first replayed notice probes the receiver at once.
func (d *Dispatcher) ReplayDeadLetters(ctx context.Context, subscriptionID, deadLetterID string) (int, error) {
	w, ok := d.worker(subscriptionID)
	if !ok {
		r, err := d.cfg.Store.GetSubscription(ctx, subscriptionID)
		if err != nil {
			return 0, fmt.Errorf("replay webhook dead letters: %w", err)
		}
		if err := d.apply(r); err != nil {
			return 0, fmt.Errorf("replay webhook dead letters: %w", err)
		}
		w, _ = d.worker(subscriptionID)
	}
	room := cap(w.queue) - len(w.queue)
	if room == 0 {
		return 0, fmt.Errorf("replay webhook dead letters: %w", ErrQueueFull)
	}
	dls, err := d.cfg.Store.TakeDeadLetters(ctx, subscriptionID, deadLetterID, room)
	if err != nil {
		return 0, fmt.Errorf("replay webhook dead letters: %w", err)
	}
	w.breaker.probeNow()
	queued := 0
	for _, dl := range dls {
		select {
		case w.queue <- item{msg: message{notice: dl.Notice, incident: dl.Incident}, replay: true}:
			queued++
		default:
			// The queue filled up meanwhile: put it back as it was.
			d.storeDeadLetter(ctx, dl)
		}
	}
	return queued, nil
}
