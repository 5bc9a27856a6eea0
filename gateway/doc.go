// Package gateway holds hush's domain: identities, customers, events, silences, opt-outs,
// incidents and decisions, and the interfaces that adapters implement (Store, Connector,
// Upstream) and that the HTTP layer consumes (Engine).
//
// It imports no adapter. Storage back ends live under storage/, vendor adapters under
// connectors/, the decision logic under gateway/policy and the HTTP surface under
// gateway/server; cmd/hush wires them together.
package gateway
