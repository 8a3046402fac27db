package identity

import (
	"cmp"
	"math"
	"slices"
)

// Clustering is the outcome of one clustering run.
type Clustering struct {
	// Observations in order of their first event.
	Observations []*Observation
	// Cluster[i] is the cluster of Observations[i]: the index of the
	// cluster's earliest observation.
	Cluster []int
	// Joins are the pairs whose evidence joined two clusters, strongest
	// first.
	Joins []Join
}

// Join is one pair of observations whose score joined their clusters.
type Join struct {
	A, B  int
	Score float64
}

// Cluster groups inputs into identities by weighted evidence.
func Cluster(inputs []Input, asn ASNLookup, w Weights) *Clustering {
	obs := extract(inputs, asn, w)
	s := newScorer(obs, w)
	pairs := s.candidates()

	type scored struct {
		a, b  int32
		score float64
	}
	var joins []scored
	for _, p := range pairs {
		a, b := int(p>>32), int(p&0xffffffff)
		if sc := s.score(a, b); sc >= w.Threshold {
			joins = append(joins, scored{int32(a), int32(b), sc})
		}
	}
	// Strongest evidence first, so a cluster forms around its surest
	// links; ties broken by position for a deterministic result.
	slices.SortFunc(joins, func(x, y scored) int {
		if c := cmp.Compare(y.score, x.score); c != 0 {
			return c
		}
		if c := cmp.Compare(x.a, y.a); c != 0 {
			return c
		}
		return cmp.Compare(x.b, y.b)
	})

	uf := newUnionFind(len(obs))
	out := &Clustering{Observations: obs, Cluster: make([]int, len(obs))}
	for _, j := range joins {
		if uf.union(int(j.a), int(j.b)) {
			out.Joins = append(out.Joins, Join{A: int(j.a), B: int(j.b), Score: j.score})
		}
	}

	// Second pass: an observation meets the other clusters it has
	// candidates in through their command profile, the union of their
	// members' commands. A short session that ran a part of an
	// operator's habit matches the habit better than any one session.
	// Observations with a handful of commands stay out: a profile
	// gathers common commands, and two or three of them match anyone.
	profiles := s.commandProfiles(uf)
	var late []scored
	for _, p := range pairs {
		a, b := int(p>>32), int(p&0xffffffff)
		ra, rb := uf.find(a), uf.find(b)
		if ra == rb {
			continue
		}
		var sc float64
		if s.obs[a].commands >= w.ProfileMinCommands {
			sc = s.sum(s.evidenceWith(a, b, s.profileSimilarity(a, b, profiles[rb])))
		}
		if s.obs[b].commands >= w.ProfileMinCommands {
			sc = max(sc, s.sum(s.evidenceWith(b, a, s.profileSimilarity(b, a, profiles[ra]))))
		}
		if sc >= w.Threshold {
			late = append(late, scored{int32(a), int32(b), sc})
		}
	}
	slices.SortFunc(late, func(x, y scored) int {
		if c := cmp.Compare(y.score, x.score); c != 0 {
			return c
		}
		if c := cmp.Compare(x.a, y.a); c != 0 {
			return c
		}
		return cmp.Compare(x.b, y.b)
	})
	for _, j := range late {
		if uf.union(int(j.a), int(j.b)) {
			out.Joins = append(out.Joins, Join{A: int(j.a), B: int(j.b), Score: j.score})
		}
	}
	for i := range obs {
		out.Cluster[i] = uf.find(i)
	}
	return out
}

// scorer holds the corpus-wide statistics pair scores need.
type scorer struct {
	obs    []*Observation
	w      Weights
	rarity map[uint64]float64
	// sharedAddr marks addresses that show many client fingerprints.
	sharedAddr map[string]bool
}

func newScorer(obs []*Observation, w Weights) *scorer {
	s := &scorer{obs: obs, w: w, rarity: map[uint64]float64{}, sharedAddr: map[string]bool{}}

	// Document frequency in distinct source addresses: one scanner
	// hammering from one address does not make its wordlist common.
	addrsOf := map[uint64]map[string]struct{}{}
	toolsAt := map[string]map[uint64]struct{}{}
	note := func(t uint64, addr string) {
		m := addrsOf[t]
		if m == nil {
			m = map[string]struct{}{}
			addrsOf[t] = m
		}
		m[addr] = struct{}{}
	}
	for _, o := range obs {
		for _, set := range [][]uint64{o.tools, o.creds, o.cmds, o.cmdPairs} {
			for _, t := range set {
				note(t, o.Address)
			}
		}
		if toolsAt[o.Address] == nil {
			toolsAt[o.Address] = map[uint64]struct{}{}
		}
		for _, t := range o.tools {
			toolsAt[o.Address][t] = struct{}{}
		}
	}
	lo, hi := math.Log(float64(w.RareAddresses)), math.Log(float64(w.CommonAddresses))
	for t, addrs := range addrsOf {
		df := math.Log(float64(len(addrs)))
		s.rarity[t] = math.Max(0, math.Min(1, (hi-df)/(hi-lo)))
	}
	for addr, tools := range toolsAt {
		if len(tools) >= w.SharedAddressTools {
			s.sharedAddr[addr] = true
		}
	}
	return s
}

// candidates returns the pairs (a<<32 | b, a < b) that share at least one
// token worth scoring, without duplicates.
func (s *scorer) candidates() []uint64 {
	blocks := map[uint64][]int32{}
	add := func(t uint64, i int) {
		blocks[t] = append(blocks[t], int32(i))
	}
	for i, o := range s.obs {
		for _, t := range o.infra {
			add(t, i)
		}
		for _, t := range o.accepted {
			add(t, i)
		}
		for _, t := range o.tools {
			add(t, i)
		}
		add(token(nsAddress, o.Address), i)
		// Weak tokens open candidates only while rare, so a wordlist entry
		// seen from everywhere creates no pairs.
		for _, t := range o.creds {
			if s.rarity[t] > 0 {
				add(t, i)
			}
		}
		for _, t := range o.cmds {
			if s.rarity[t] > 0 {
				add(t, i)
			}
		}
	}

	var pairs []uint64
	pair := func(a, b int32) {
		if a > b {
			a, b = b, a
		}
		if a != b {
			pairs = append(pairs, uint64(a)<<32|uint64(b))
		}
	}
	for _, members := range blocks {
		if len(members) <= s.w.BlockCap {
			for i := range members {
				for j := i + 1; j < len(members); j++ {
					pair(members[i], members[j])
				}
			}
			continue
		}
		// A large block is chained: each member meets its predecessor and
		// the block's first member, enough to connect whatever deserves
		// connecting through this token.
		for i := 1; i < len(members); i++ {
			pair(members[i-1], members[i])
			pair(members[0], members[i])
		}
	}
	slices.Sort(pairs)
	return slices.Compact(pairs)
}

// term is one piece of evidence and its points.
type term struct {
	name   string
	points float64
}

// score is the evidence that observations a and b share one identity.
func (s *scorer) score(a, b int) float64 { return s.sum(s.evidence(a, b)) }

func (s *scorer) sum(terms []term) float64 {
	var total float64
	for _, t := range terms {
		total += t.points
	}
	return total
}

// evidence lists the non-zero evidence between observations a and b.
func (s *scorer) evidence(a, b int) []term {
	return s.evidenceWith(a, b, s.commandSimilarity(a, b))
}

// commandSimilarity compares the command habits of two sessions: the
// rarity-weighted overlap of their lines, and for the order the steps of
// their longest common subsequence. A skipped or added step costs the
// order that step alone, where consecutive pairs would lose the pairs on
// both sides of it.
func (s *scorer) commandSimilarity(a, b int) float64 {
	x, y := s.obs[a], s.obs[b]
	if x.commands < s.w.CommandsMinCommands || y.commands < s.w.CommandsMinCommands {
		return 0
	}
	return (1-s.w.CommandsOrder)*s.weightedOverlap(x.cmds, y.cmds) + s.w.CommandsOrder*s.weightedOrder(x.cmdSeq, y.cmdSeq)
}

// profileSimilarity compares a's commands with a cluster's profile, b
// being one of its members. A profile has no single order, so the order
// is that of the consecutive pairs its members ran.
func (s *scorer) profileSimilarity(a, b int, p cmdProfile) float64 {
	x, y := s.obs[a], s.obs[b]
	if x.commands < s.w.CommandsMinCommands || y.commands < s.w.CommandsMinCommands {
		return 0
	}
	return (1-s.w.CommandsOrder)*s.weightedOverlap(x.cmds, p.cmds) + s.w.CommandsOrder*s.weightedOverlap(x.cmdPairs, p.pairs)
}

// cmdProfile is the union of a cluster's command lines and pairs.
type cmdProfile struct{ cmds, pairs []uint64 }

func (s *scorer) commandProfiles(uf *unionFind) map[int]cmdProfile {
	out := map[int]cmdProfile{}
	for i, o := range s.obs {
		if o.commands == 0 {
			continue
		}
		r := uf.find(i)
		p := out[r]
		p.cmds = append(p.cmds, o.cmds...)
		p.pairs = append(p.pairs, o.cmdPairs...)
		out[r] = p
	}
	for r, p := range out {
		slices.Sort(p.cmds)
		slices.Sort(p.pairs)
		out[r] = cmdProfile{slices.Compact(p.cmds), slices.Compact(p.pairs)}
	}
	return out
}

// evidenceWith is the evidence between a and b given their command
// similarity, which callers compute against b itself or b's cluster.
func (s *scorer) evidenceWith(a, b int, cmdSim float64) []term {
	x, y := s.obs[a], s.obs[b]
	w := s.w
	var out []term
	add := func(name string, points float64) {
		if points != 0 {
			out = append(out, term{name, points})
		}
	}

	if intersects(x.infra, y.infra) {
		add("infrastructure", w.Infrastructure)
	}
	// A shared accepted secret links two sessions when at least one of
	// them knew it rather than guessed it: two bots that both guessed a
	// default password share a wordlist, not an operator.
	known := max(s.maxSharedRarity(x.direct, y.accepted), s.maxSharedRarity(x.accepted, y.direct))
	add("accepted_credential", w.AcceptedCredential*known)
	tool := s.maxSharedRarity(x.tools, y.tools)
	if x.stock && y.stock {
		tool = min(tool, w.StockToolRarity)
	}
	add("tool", w.Tool*tool)

	if sim := s.weightedJaccard(x.creds, y.creds); sim >= w.CredentialsMinSim {
		add("credentials", w.Credentials*sim)
	}
	if cmdSim >= w.CommandsMinSim {
		add("commands", min(w.Commands*cmdSim, w.CommandsMax))
	}
	if x.hasKS && y.hasKS {
		switch CompareKeystrokes(x.ks, y.ks, w) {
		case KeystrokeSame:
			add("keystrokes_same", w.KeystrokeSame)
		case KeystrokeDifferent:
			add("keystrokes_different", w.KeystrokeDifferent)
		}
	}
	if x.Address == y.Address && !s.sharedAddr[x.Address] {
		add("address", w.SameAddress)
		if intersects(x.tools, y.tools) {
			add("address_tool", w.AddressTool)
		}
	}
	if x.ASN != 0 && x.ASN == y.ASN {
		add("asn", w.SameASN)
	}
	return out
}

func (s *scorer) maxSharedRarity(a, b []uint64) float64 {
	best := 0.0
	eachShared(a, b, func(t uint64) { best = math.Max(best, s.rarity[t]) })
	return best
}

// weightedJaccard is the Jaccard similarity in which each shared token
// counts by its rarity: the shared rarity mass over the size of the
// union. Sets that match only on commodity tokens (a public wordlist, a
// stock one-liner) score near zero however completely they match.
func (s *scorer) weightedJaccard(a, b []uint64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	var shared float64
	n := 0
	eachShared(a, b, func(t uint64) {
		shared += s.rarity[t]
		n++
	})
	return shared / float64(len(a)+len(b)-n)
}

// weightedOverlap is the overlap coefficient with shared tokens counted
// by rarity: the shared rarity mass over the smaller set. A short session
// that runs part of an operator's usual sequence still matches it.
func (s *scorer) weightedOverlap(a, b []uint64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	var shared float64
	eachShared(a, b, func(t uint64) { shared += s.rarity[t] })
	return shared / float64(min(len(a), len(b)))
}

// weightedOrder is the share of steps two sequences of distinct tokens
// take in the same order: the rarity mass of their longest common
// subsequence less one (n lines in order make n-1 steps), over the
// shorter one's steps. A single shared line carries no order.
func (s *scorer) weightedOrder(a, b []uint64) float64 {
	steps := min(len(a), len(b)) - 1
	if steps < 1 {
		return 0
	}
	prev := make([]float64, len(b)+1)
	cur := make([]float64, len(b)+1)
	for _, t := range a {
		for j, u := range b {
			if t == u {
				cur[j+1] = prev[j] + s.rarity[t]
			} else {
				cur[j+1] = max(prev[j+1], cur[j])
			}
		}
		prev, cur = cur, prev
	}
	return max(0, prev[len(b)]-1) / float64(steps)
}

func intersects(a, b []uint64) bool {
	found := false
	eachShared(a, b, func(uint64) { found = true })
	return found
}

// eachShared calls f for each token in both sorted sets.
func eachShared(a, b []uint64, f func(uint64)) {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case b[j] < a[i]:
			j++
		default:
			f(a[i])
			i++
			j++
		}
	}
}

// unionFind keeps the earliest index as each set's root, so cluster ids
// are stable under the input order.
type unionFind struct{ parent []int }

func newUnionFind(n int) *unionFind {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return &unionFind{parent: p}
}

func (u *unionFind) find(i int) int {
	for u.parent[i] != i {
		u.parent[i] = u.parent[u.parent[i]]
		i = u.parent[i]
	}
	return i
}

func (u *unionFind) union(a, b int) bool {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return false
	}
	if rb < ra {
		ra, rb = rb, ra
	}
	u.parent[rb] = ra
	return true
}
