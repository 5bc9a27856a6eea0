package statuspage

import (
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/gateway"
)

// TestIntakeOneIncidentPerStatuspageIncident runs the fixtures through the real engine on a
// real bbolt file: every update re-sends the opening under a new event id, and the engine
// must keep one hush incident per Statuspage incident (matched on the topic) until the
// resolution.
func TestIntakeOneIncidentPerStatuspageIncident(t *testing.T) {
	store, engine := connectortest.NewEngine(t, connectortest.Options{Now: goldenReceivedAt})
	src := newSource(t, gateway.SourceConfig{Secret: testSecret, Options: map[string]any{"scope": "tag:fibra"}})
	ingest := func(body []byte) gateway.IngestResult {
		t.Helper()
		return connectortest.Ingest(t, engine, src, request("secret="+testSecret, body))
	}
	incidents := func() []gateway.Incident {
		t.Helper()
		return connectortest.Incidents(t, store, "sp", Topic("z3lct0r596n4"))
	}

	created := readTestdata(t, "incident_created.json")
	if got := ingest(created); got.Accepted != 1 {
		t.Fatalf("created: %+v", got)
	}
	if got := ingest(created); got.Duplicates != 1 {
		t.Fatalf("redelivered: %+v, want a duplicate", got)
	}
	// A later update, still open: a new event, the same incident.
	monitoring := edit(t, "incident_created.json", map[string]any{"status": "monitoring", "updated_at": "2017-12-26T07:35:00Z"})
	if got := ingest(monitoring); got.Accepted != 1 {
		t.Fatalf("monitoring: %+v", got)
	}
	list := incidents()
	if len(list) != 1 || list[0].Title != "Database query delays" || list[0].Scope != "tag:fibra" || list[0].ResolvedAt != nil ||
		!list[0].OpenedAt.Equal(time.Date(2017, 12, 26, 7, 32, 0, 507e6, time.UTC)) {
		t.Fatalf("open incidents: %+v", list)
	}
	if got := ingest(readTestdata(t, "incident_update.json")); got.Accepted != 1 {
		t.Fatalf("resolved: %+v", got)
	}
	if got := ingest(readTestdata(t, "component_status_update.json")); got.Ignored != 1 {
		t.Fatalf("component update: %+v", got)
	}
	list = incidents()
	if len(list) != 1 || list[0].ResolvedAt == nil || !list[0].ResolvedAt.Equal(time.Date(2017, 12, 26, 7, 37, 20, 785e6, time.UTC)) {
		t.Fatalf("after resolution: %+v", list)
	}
}
