// Package chartcheck renders the DECNET Helm chart with the Helm v4
// library and checks the manifests. It is a module of its own so that the
// main module does not depend on Helm and the Kubernetes client libraries.
package chartcheck
