package attack

import (
	"context"
	"encoding/json"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// DocumentKind is the store document kind of an attacker's techniques:
// one document per attacker and technique, grouped by attacker id.
const DocumentKind = "attacker.technique"

// StoredTechnique is the document of one attacker and technique.
type StoredTechnique struct {
	Tag
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	Count uint64    `json:"count"`
}

// Documents lists store documents.
type Documents interface {
	ListDocuments(ctx context.Context, kind, grp string, limit int) ([]store.Document, error)
}

// AttackerTechniques returns the techniques recorded for an attacker,
// most recently matched first.
func AttackerTechniques(ctx context.Context, docs Documents, attackerID string) ([]*apiv1.AttackTechnique, error) {
	list, err := docs.ListDocuments(ctx, DocumentKind, attackerID, 0)
	if err != nil {
		return nil, err
	}
	out := make([]*apiv1.AttackTechnique, 0, len(list))
	for _, d := range list {
		var st StoredTechnique
		if err := json.Unmarshal(d.Data, &st); err != nil {
			continue
		}
		out = append(out, &apiv1.AttackTechnique{
			TechniqueId: st.TechniqueID, Name: st.TechniqueName, Tactic: st.Tactic, RuleId: st.RuleID,
			FirstSeen: timestamppb.New(st.First), LastSeen: timestamppb.New(st.Last), Count: st.Count,
		})
	}
	return out, nil
}
