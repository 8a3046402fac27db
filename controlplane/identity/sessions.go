package identity

// SessionIdentities returns the live identity of each observation key (a
// session id, or "addr:" and the address for events outside a session),
// or "" for a key not clustered yet. The campaign worker reads
// identities through it.
func (w *Worker) SessionIdentities(keys []string) []string {
	_, owners := w.engine.Live(keys)
	return owners
}
