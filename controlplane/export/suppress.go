package export

import (
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// Suppressor reports whether the operator's suppression rules drop a
// record. The webhook dispatcher keeps the rules, and outputs that set
// ApplySuppression consult the ones that cover every webhook.
// Implementations are called for every record such an output selects,
// so they must answer from memory, without blocking.
type Suppressor interface {
	SuppressesEvent(se *apiv1.StoredEvent) bool
	SuppressesNotice(n *apiv1.Notice) bool
}
