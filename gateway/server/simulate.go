package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// defaultSimulationPeriod is how far back a simulation replays when since is not given.
const defaultSimulationPeriod = 30 * 24 * time.Hour

// simulateBody is POST /api/v1/simulate's body: candidate rules with hush.yaml's keys, as
// JSON, and the period to replay.
type simulateBody struct {
	Rules  []gateway.RuleSpec `json:"rules"`
	Since  string             `json:"since"`  // "30d" back from now, or RFC 3339; "": 30d
	Until  string             `json:"until"`  // RFC 3339; "": now
	Sample int                `json:"sample"` // silences shown with their trigger; 0: 20
}

// handleSimulate answers POST /api/v1/simulate with what the candidate rules would have done
// over the period (gateway.SimulationReport). Rules that do not compile are a 400 naming the
// rule and the problem.
func handleSimulate(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body simulateBody
		if err := decodeJSON(w, r, deps.Limits.Body, &body); err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		now := deps.Now()
		since, err := parseSince(body.Since, now, defaultSimulationPeriod)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		var until time.Time
		if s := strings.TrimSpace(body.Until); s != "" {
			if until, err = time.Parse(time.RFC3339, s); err != nil {
				writeError(w, r, deps.Logger, invalidf("until must be an RFC 3339 time"))
				return
			}
		}
		rep, err := deps.Engine.Simulate(r.Context(), gateway.SimulationRequest{
			Rules: body.Rules, Since: since, Until: until, SampleSize: body.Sample,
		})
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		writeJSON(w, http.StatusOK, rep)
	})
}

// parseSince reads a period's start as a duration back from now ("30d") or an RFC 3339 time;
// "" is fallback back from now.
func parseSince(s string, now time.Time, fallback time.Duration) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return now.Add(-fallback), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := gateway.ParseDuration(s)
	if err != nil || d <= 0 {
		return time.Time{}, invalidf("since must be a duration such as 30d or an RFC 3339 time")
	}
	return now.Add(-d), nil
}
