package api

import (
	"bytes"
	"errors"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/decnet/decnet/agent/config"
)

// HiddenSeed replaces each decky's seed in the configuration documents
// the API returns. A seed derives the decky's host and TLS keys, so it is
// key material: the API takes it but never shows it again. A document
// sent back with a seed still equal to HiddenSeed keeps the decky's
// stored seed, so an edited document round-trips.
const HiddenSeed = "hidden"

// deckySeeds walks a decoy configuration document and calls visit with
// each decky's name and seed value node.
func deckySeeds(root *yaml.Node, visit func(name string, seed *yaml.Node) error) error {
	doc := root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	deckies := mappingValue(doc, "deckies")
	if deckies == nil || deckies.Kind != yaml.SequenceNode {
		return nil
	}
	for _, d := range deckies.Content {
		seed := mappingValue(d, "seed")
		if seed == nil {
			continue
		}
		name := ""
		if n := mappingValue(d, "name"); n != nil {
			name = n.Value
		}
		if err := visit(name, seed); err != nil {
			return err
		}
	}
	return nil
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func encodeYAML(root *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// hideSeeds returns doc with every decky seed replaced by HiddenSeed. A
// document that does not parse is withheld whole, since where its seeds
// are cannot be known.
func hideSeeds(doc []byte) []byte {
	if len(doc) == 0 {
		return doc
	}
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return nil
	}
	changed := false
	_ = deckySeeds(&root, func(_ string, seed *yaml.Node) error {
		seed.Value, seed.Style, seed.Tag = HiddenSeed, 0, "!!str"
		changed = true
		return nil
	})
	if !changed {
		return doc
	}
	out, err := encodeYAML(&root)
	if err != nil {
		return nil
	}
	return out
}

// errHiddenSeed reports a hidden seed for a decky that has no stored one.
var errHiddenSeed = errors.New("seed is hidden but the stored configuration has no decky of that name")

// restoreSeeds returns doc with each seed equal to HiddenSeed replaced by
// the seed of the same decky in stored, and each missing seed by a new
// random one. It returns doc unchanged when it needs neither.
func restoreSeeds(doc, stored []byte) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		// The agent reports the parse error; nothing to restore.
		return doc, nil //nolint:nilerr // an unparsable document is the agent's to reject.
	}
	known := map[string]string{}
	if len(stored) > 0 {
		var old yaml.Node
		if err := yaml.Unmarshal(stored, &old); err == nil {
			_ = deckySeeds(&old, func(name string, seed *yaml.Node) error {
				known[name] = seed.Value
				return nil
			})
		}
	}
	changed := false
	err := deckySeeds(&root, func(name string, seed *yaml.Node) error {
		if seed.Value != HiddenSeed {
			return nil
		}
		value, ok := known[name]
		if !ok || value == HiddenSeed {
			return fmt.Errorf("decky %q: %w", name, errHiddenSeed)
		}
		seed.Value, seed.Style = value, 0
		changed = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !addMissingSeeds(&root) && !changed {
		return doc, nil
	}
	return encodeYAML(&root)
}

// addMissingSeeds gives each decky without a seed line a new random seed,
// so a decky added in an editor needs none typed in.
func addMissingSeeds(root *yaml.Node) bool {
	doc := root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	deckies := mappingValue(doc, "deckies")
	if deckies == nil || deckies.Kind != yaml.SequenceNode {
		return false
	}
	added := false
	for _, d := range deckies.Content {
		if d.Kind != yaml.MappingNode || mappingValue(d, "seed") != nil {
			continue
		}
		seed, err := config.NewSeed()
		if err != nil {
			continue
		}
		d.Content = append(d.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Value: "seed", Tag: "!!str"},
			&yaml.Node{Kind: yaml.ScalarNode, Value: seed, Tag: "!!str"})
		added = true
	}
	return added
}
