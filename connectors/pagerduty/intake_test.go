package pagerduty

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/gateway"
)

// TestIntakeOpensAndResolvesIncident runs parsed deliveries through the real engine on a
// real bbolt file: the contract with gateway/policy (topic as external id, attrs.scope and
// attrs.title) is what makes these events do anything.
func TestIntakeOpensAndResolvesIncident(t *testing.T) {
	store, engine := connectortest.NewEngine(t, connectortest.Options{Now: goldenReceivedAt})
	src := newSource(t, gateway.SourceConfig{Secret: "k", Options: map[string]any{"scope": "tag:fibra"}})
	ingest := func(body []byte) gateway.IngestResult {
		t.Helper()
		return connectortest.Ingest(t, engine, src, request("", body))
	}
	incidents := func() []gateway.Incident {
		t.Helper()
		return connectortest.Incidents(t, store, "pd", Topic("PFQZPSY"))
	}

	triggered := readTestdata(t, "triggered_v3.json")
	if got := ingest(triggered); got.Accepted != 1 {
		t.Fatalf("triggered: %+v", got)
	}
	if got := ingest(triggered); got.Duplicates != 1 {
		t.Fatalf("redelivered trigger: %+v, want a duplicate", got)
	}
	list := incidents()
	if len(list) != 1 {
		t.Fatalf("incidents: %+v", list)
	}
	inc := list[0]
	opened := time.Date(2021, 6, 4, 13, 35, 29, 781e6, time.UTC)
	if inc.Title != "Test Incident 3" || inc.Scope != "tag:fibra" || inc.ResolvedAt != nil || !inc.OpenedAt.Equal(opened) {
		t.Fatalf("opened incident: %+v", inc)
	}

	// The same incident resolved: the fixture with the documented resolved event type and a
	// new event id.
	var doc map[string]map[string]any
	if err := json.Unmarshal(triggered, &doc); err != nil {
		t.Fatal(err)
	}
	doc["event"]["event_type"], doc["event"]["id"] = "incident.resolved", "01BZYIL05THJDFF2Y08X9SVRES"
	doc["event"]["occurred_at"] = "2021-06-04T14:00:00Z"
	resolved, _ := json.Marshal(doc)
	if got := ingest(resolved); got.Accepted != 1 {
		t.Fatalf("resolved: %+v", got)
	}
	list = incidents()
	if len(list) != 1 || list[0].ResolvedAt == nil || !list[0].ResolvedAt.Equal(time.Date(2021, 6, 4, 14, 0, 0, 0, time.UTC)) {
		t.Fatalf("after resolution: %+v", list)
	}
}
