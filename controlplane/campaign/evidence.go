package campaign

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Threshold is the evidence score at which two identities join one
// campaign. The weights below are sized against it: hand-off,
// credential and infrastructure evidence can join a pair alone, overlap
// and cohort only together or as corroboration.
const Threshold = 1.0

// Phase hand-off: identity B begins on a target within HandoffWindow
// after identity A ends there, and B gets further (a scanner, then a
// brute forcer, then an operator). Other identities may come in
// between, as scanners do all day. The score is
// HandoffWeight times the targets A handed over divided by B's targets,
// or by HandoffMinTargets when B has fewer. So a complete hand-off on
// HandoffMinTargets targets or more joins alone, and a partial or small
// one needs corroboration.
const (
	HandoffWeight = 1.0
	// HandoffMinTargets: among tens of unrelated scanners, a scanner on
	// three deckies followed within hours by a brute forcer on the same
	// three happens by chance. It did in about one seed in thirty of the
	// built-in scenarios with ten noise scanners, and never on four.
	HandoffMinTargets = 4
	// maxPredecessors bounds the identities that can hand a target over
	// to one identity: the ones that ended there last. On a busy target
	// an older one loses this evidence.
	maxPredecessors = 8
	// HandoffWindow is the longest gap between A's last event on a target
	// and B's first. Tools hand over to people within hours; a longer gap
	// on a decoy that many scanners hit is coincidence.
	HandoffWindow = 6 * time.Hour
)

// Credential hand-off: identity B logs in at once, within its first
// directLogin attempts, with a credential identity A had guessed
// earlier. B knew a secret that only A's brute force found: the access
// broker hands over to the operator. No window applies, so a campaign
// that resumes after weeks with the same access stays one.
const (
	CredentialWeight = 1.0
	// CredentialCommonIdentities: a credential that more identities
	// than this used directly is a widely known default, not a secret
	// handed over, and adds no evidence.
	CredentialCommonIdentities = 3
)

// Shared infrastructure: the same C2 host (download URL host, forwarded
// host) or payload SHA-256 in two identities' sessions.
const (
	InfraWeight = 1.0
	// InfraCommonIdentities: a host or payload that more identities than
	// this share is public (a code-hosting site, a widespread botnet
	// sample) and adds no evidence.
	InfraCommonIdentities = 8
)

// Temporal overlap: both identities active on the same targets at the
// same time. Scanners overlap all the time, so it only corroborates:
// OverlapWeight times the share of their targets, counted over the
// union, on which their activity overlaps.
const OverlapWeight = 0.5

// Cohort: identities first seen within CohortWindow of each other doing
// the same work on the same targets, as the bots of one botnet start
// together. The score is CohortWeight times the Jaccard index of their
// target sets, counting a shared target only where both reached the same
// phase, so a cohort that also overlaps on all its targets reaches
// Threshold. A scanner and the brute forcer after it are a hand-off, not
// a cohort.
const (
	CohortWeight = 0.5
	CohortWindow = time.Hour
)

// Evidence kinds, as Term.Kind and in the API.
const (
	KindHandoff        = "handoff"
	KindCredential     = "credential"
	KindInfrastructure = "infrastructure"
	KindOverlap        = "overlap"
	KindCohort         = "cohort"
)

// Term is one kind of evidence between two identities.
type Term struct {
	Kind  string
	Score float64
	// Detail names what was shared, such as "c2:203.0.113.7:8080" or
	// "ssh on web-1, brute then shell".
	Detail string
}

// Join is a pair of identities whose evidence joined their campaigns.
type Join struct {
	// A and B index Clustering.Activities.
	A, B  int
	Score float64
	Terms []Term
}

// Clustering is the outcome of one clustering run.
type Clustering struct {
	// Activities in order of first event, then identity id.
	Activities []*Activity
	// Cluster[i] is the cluster of Activities[i]: the index of its
	// earliest member.
	Cluster []int
	// Joins are the pairs that joined two clusters, strongest first.
	Joins []Join
}

// Cluster groups identities into campaigns by weighted evidence.
func Cluster(activities []*Activity) *Clustering {
	acts := slices.Clone(activities)
	slices.SortFunc(acts, func(a, b *Activity) int {
		if c := a.First.Compare(b.First); c != 0 {
			return c
		}
		return cmp.Compare(a.Identity, b.Identity)
	})
	s := newScorer(acts)

	var joins []Join
	for _, p := range s.candidates() {
		terms := s.evidence(p[0], p[1])
		total := 0.0
		for _, t := range terms {
			total += t.Score
		}
		if total >= Threshold-1e-9 {
			joins = append(joins, Join{A: p[0], B: p[1], Score: total, Terms: terms})
		}
	}
	slices.SortFunc(joins, func(x, y Join) int {
		if c := cmp.Compare(y.Score, x.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(x.A, y.A); c != 0 {
			return c
		}
		return cmp.Compare(x.B, y.B)
	})

	parent := make([]int, len(acts))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	out := &Clustering{Activities: acts, Cluster: make([]int, len(acts))}
	for _, j := range joins {
		ra, rb := find(j.A), find(j.B)
		if ra == rb {
			continue
		}
		// The earliest member is the root, so Cluster names it.
		if rb < ra {
			ra, rb = rb, ra
		}
		parent[rb] = ra
		out.Joins = append(out.Joins, j)
	}
	for i := range acts {
		out.Cluster[i] = find(i)
	}
	return out
}

// scorer holds the indexes that candidate pairs and scores need.
type scorer struct {
	acts []*Activity
	// predecessors[b][t] are the identities whose activity on t ended
	// within HandoffWindow before b's began there, latest first, at most
	// maxPredecessors.
	predecessors []map[Target][]int
	// infraUsers and directUsers count identities per token, for the
	// commonness cut-offs.
	infraUsers  map[string][]int
	directUsers map[string][]int
	foundBy     map[string][]int
}

func newScorer(acts []*Activity) *scorer {
	s := &scorer{
		acts: acts, predecessors: make([]map[Target][]int, len(acts)),
		infraUsers: map[string][]int{}, directUsers: map[string][]int{}, foundBy: map[string][]int{},
	}
	onTarget := map[Target][]int{}
	for i, a := range acts {
		for t := range a.Spans {
			onTarget[t] = append(onTarget[t], i)
		}
		for k := range a.Infra {
			s.infraUsers[k] = append(s.infraUsers[k], i)
		}
		for k := range a.Direct {
			s.directUsers[k] = append(s.directUsers[k], i)
		}
		for k := range a.Found {
			s.foundBy[k] = append(s.foundBy[k], i)
		}
	}

	// For each target, walk identities by first event there while
	// keeping those that ended before it, in order of their end.
	for t, ids := range onTarget {
		byLast := slices.Clone(ids)
		slices.SortFunc(byLast, func(x, y int) int { return acts[x].Spans[t].Last.Compare(acts[y].Spans[t].Last) })
		byFirst := slices.Clone(ids)
		slices.SortFunc(byFirst, func(x, y int) int { return acts[x].Spans[t].First.Compare(acts[y].Spans[t].First) })
		ended := 0
		for _, b := range byFirst {
			first := acts[b].Spans[t].First
			for ended < len(byLast) && !acts[byLast[ended]].Spans[t].Last.After(first) {
				ended++
			}
			var preds []int
			for k := ended - 1; k >= 0 && len(preds) < maxPredecessors; k-- {
				a := byLast[k]
				if first.Sub(acts[a].Spans[t].Last) > HandoffWindow {
					break
				}
				if a != b {
					preds = append(preds, a)
				}
			}
			if len(preds) > 0 {
				if s.predecessors[b] == nil {
					s.predecessors[b] = map[Target][]int{}
				}
				s.predecessors[b][t] = preds
			}
		}
	}
	return s
}

// candidates returns the pairs (a < b) that could reach Threshold: a
// hand-off, a handed-over credential, shared rare infrastructure, or a
// cohort. Overlap only corroborates, so it adds no pairs of its own.
func (s *scorer) candidates() [][2]int {
	seen := map[[2]int]struct{}{}
	add := func(a, b int) {
		if a == b {
			return
		}
		if a > b {
			a, b = b, a
		}
		seen[[2]int{a, b}] = struct{}{}
	}
	for b, byTarget := range s.predecessors {
		for _, preds := range byTarget {
			for _, a := range preds {
				add(a, b)
			}
		}
	}
	for k, users := range s.directUsers {
		if len(users) > CredentialCommonIdentities {
			continue
		}
		for _, b := range users {
			for _, a := range s.foundBy[k] {
				add(a, b)
			}
		}
	}
	for _, users := range s.infraUsers {
		if len(users) < 2 || len(users) > InfraCommonIdentities {
			continue
		}
		for i, a := range users {
			for _, b := range users[i+1:] {
				add(a, b)
			}
		}
	}
	s.cohortCandidates(add)

	out := make([][2]int, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	slices.SortFunc(out, func(x, y [2]int) int {
		if c := cmp.Compare(x[0], y[0]); c != 0 {
			return c
		}
		return cmp.Compare(x[1], y[1])
	})
	return out
}

// Bounds on the cohort candidates of one identity. Thousands of
// identities that each sent one banner to the same service are one
// cohort. Pairing all of them costs quadratic time and memory every
// pass; pairing each with a few peers joins them just the same.
const (
	// maxCohortPeers is how many earlier identities one identity is
	// paired with as a cohort.
	maxCohortPeers = 8
	// maxCohortScan is how many earlier identities of the same shape
	// are looked at to find them.
	maxCohortScan = 64
)

// cohortCandidates adds the pairs that only cohort and overlap evidence
// can join. Each weighs half of Threshold, so such a pair must have the
// same targets at the same phases and overlap on every one. Identities
// are grouped by that shape. Within a group, in order of first event,
// each is paired with the latest earlier ones that started within
// CohortWindow and overlap it everywhere. Pairs that other evidence
// joins are candidates already.
func (s *scorer) cohortCandidates(add func(a, b int)) {
	groups := map[string][]int{}
	var keys []Target
	var sb strings.Builder
	for i, a := range s.acts {
		keys = slices.AppendSeq(keys[:0], maps.Keys(a.Spans))
		slices.SortFunc(keys, func(x, y Target) int {
			if c := cmp.Compare(x.Decky, y.Decky); c != 0 {
				return c
			}
			return cmp.Compare(x.Service, y.Service)
		})
		sb.Reset()
		for _, t := range keys {
			fmt.Fprintf(&sb, "%s\x00%s\x00%d\x01", t.Decky, t.Service, a.Spans[t].Phase)
		}
		// Activities are sorted by first event, so each group is too.
		groups[sb.String()] = append(groups[sb.String()], i)
	}
	for _, ids := range groups {
		for k, b := range ids {
			peers := 0
			for j := k - 1; j >= 0 && k-j <= maxCohortScan && peers < maxCohortPeers; j-- {
				a := ids[j]
				if s.acts[b].First.Sub(s.acts[a].First) > CohortWindow {
					break
				}
				if s.overlapsEverywhere(a, b) {
					add(a, b)
					peers++
				}
			}
		}
	}
}

// overlapsEverywhere reports whether a and b, which have the same
// targets, are active at the same time on each of them.
func (s *scorer) overlapsEverywhere(a, b int) bool {
	x, y := s.acts[a], s.acts[b]
	for t, sx := range x.Spans {
		sy := y.Spans[t]
		if sx.Last.Before(sy.First) || sy.Last.Before(sx.First) {
			return false
		}
	}
	return true
}

// evidence returns the terms with a positive score between a and b.
func (s *scorer) evidence(a, b int) []Term {
	var terms []Term
	if t, ok := s.handoff(a, b); ok {
		terms = append(terms, t)
	} else if t, ok := s.handoff(b, a); ok {
		terms = append(terms, t)
	}
	if t, ok := s.credential(a, b); ok {
		terms = append(terms, t)
	} else if t, ok := s.credential(b, a); ok {
		terms = append(terms, t)
	}
	if t, ok := s.infrastructure(a, b); ok {
		terms = append(terms, t)
	}
	if t, ok := s.overlap(a, b); ok {
		terms = append(terms, t)
	}
	if t, ok := s.cohort(a, b); ok {
		terms = append(terms, t)
	}
	return terms
}

// handoff scores from handing over to to on the targets where from is
// one of to's predecessors and to got further.
func (s *scorer) handoff(from, to int) (Term, bool) {
	a, b := s.acts[from], s.acts[to]
	var handed []string
	for t, preds := range s.predecessors[to] {
		if !slices.Contains(preds, from) {
			continue
		}
		sa, sb := a.Spans[t], b.Spans[t]
		if sb.Phase <= sa.Phase {
			continue
		}
		handed = append(handed, fmt.Sprintf("%s, %s then %s", t, sa.Phase, sb.Phase))
	}
	if len(handed) == 0 {
		return Term{}, false
	}
	slices.Sort(handed)
	share := float64(len(handed)) / float64(max(len(b.Spans), HandoffMinTargets))
	return Term{Kind: KindHandoff, Score: HandoffWeight * share, Detail: strings.Join(handed, "; ")}, true
}

// credential scores to's direct use of a credential from guessed
// earlier.
func (s *scorer) credential(from, to int) (Term, bool) {
	a, b := s.acts[from], s.acts[to]
	// Sorted, so that the detail names the same credential every run.
	for _, k := range slices.Sorted(maps.Keys(b.Direct)) {
		used := b.Direct[k]
		found, ok := a.Found[k]
		if !ok || used.Before(found) || len(s.directUsers[k]) > CredentialCommonIdentities {
			continue
		}
		principal, _, _ := strings.Cut(k, "\x00")
		return Term{Kind: KindCredential, Score: CredentialWeight, Detail: "login " + principal + " guessed, then used directly"}, true
	}
	return Term{}, false
}

func (s *scorer) infrastructure(a, b int) (Term, bool) {
	var shared []string
	for k := range s.acts[a].Infra {
		if _, ok := s.acts[b].Infra[k]; ok && len(s.infraUsers[k]) <= InfraCommonIdentities {
			shared = append(shared, k)
		}
	}
	if len(shared) == 0 {
		return Term{}, false
	}
	slices.Sort(shared)
	return Term{Kind: KindInfrastructure, Score: InfraWeight, Detail: strings.Join(shared, ", ")}, true
}

func (s *scorer) overlap(a, b int) (Term, bool) {
	x, y := s.acts[a], s.acts[b]
	union := len(x.Spans)
	var both []string
	for t, sy := range y.Spans {
		sx, ok := x.Spans[t]
		if !ok {
			union++
			continue
		}
		if !sx.Last.Before(sy.First) && !sy.Last.Before(sx.First) {
			both = append(both, t.String())
		}
	}
	if len(both) == 0 {
		return Term{}, false
	}
	slices.Sort(both)
	share := float64(len(both)) / float64(union)
	return Term{Kind: KindOverlap, Score: OverlapWeight * share, Detail: strings.Join(both, ", ")}, true
}

func (s *scorer) cohort(a, b int) (Term, bool) {
	x, y := s.acts[a], s.acts[b]
	gap := x.First.Sub(y.First).Abs()
	if gap > CohortWindow {
		return Term{}, false
	}
	shared, union := 0, len(x.Spans)
	for t, sy := range y.Spans {
		sx, ok := x.Spans[t]
		switch {
		case !ok:
			union++
		case sx.Phase == sy.Phase:
			shared++
		}
	}
	if shared == 0 {
		return Term{}, false
	}
	jaccard := float64(shared) / float64(union)
	return Term{Kind: KindCohort, Score: CohortWeight * jaccard, Detail: fmt.Sprintf("first seen %s apart on %d of %d targets", gap.Round(time.Second), shared, union)}, true
}
