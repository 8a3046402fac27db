package fanout_test

import (
	"testing"

	"github.com/decnet/decnet/controlplane/fanout"
	"github.com/decnet/decnet/controlplane/fanout/fanouttest"
)

func TestHubBroker(t *testing.T) {
	fanouttest.Run(t, func(t *testing.T) (fanout.Broker, fanout.Broker) {
		h := fanout.New()
		return h, h
	})
}
