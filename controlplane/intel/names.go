package intel

// ProviderNames returns the names of the enricher's providers in the
// order they are asked.
func (e *Enricher) ProviderNames() []string {
	names := make([]string, len(e.cfg.Providers))
	for i, p := range e.cfg.Providers {
		names[i] = p.Name()
	}
	return names
}
