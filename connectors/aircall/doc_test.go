package aircall

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// TestDocExample runs the shell lines that build the delivery in docs/connectors/aircall.md
// and checks that the body they make verifies and becomes a call.missed, so the documented
// example cannot rot.
func TestDocExample(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "connectors", "aircall.md"))
	if err != nil {
		t.Fatal(err)
	}
	var script []string
	for _, line := range strings.Split(string(doc), "\n") {
		for _, v := range []string{"TOKEN=", "NOW=", "BODY="} {
			if strings.HasPrefix(line, v) {
				script = append(script, line)
			}
		}
	}
	if len(script) != 3 {
		t.Fatalf("found %d of the TOKEN=, NOW=, BODY= lines in the doc", len(script))
	}
	script = append(script, `printf '%s\n%s' "$TOKEN" "$BODY"`)
	out, err := exec.Command(bash, "-c", strings.Join(script, "\n")).Output()
	if err != nil {
		t.Fatalf("running the doc's lines: %v", err)
	}
	token, body, _ := strings.Cut(string(out), "\n")

	src, err := NewSource(gateway.SourceConfig{Name: "aircall", Kind: Kind, Secret: token, DefaultRegion: "GB"})
	if err != nil {
		t.Fatal(err)
	}
	req := &gateway.WebhookRequest{Source: "aircall", Body: []byte(body), ReceivedAt: time.Now()}
	if err := src.Verify(req); err != nil {
		t.Fatalf("the doc's delivery does not verify: %v", err)
	}
	res, err := src.Parse(req)
	if err != nil || len(res.Events) != 1 || res.Events[0].Type != gateway.EventCallMissed {
		t.Fatalf("the doc's delivery parses to %+v, %v", res, err)
	}
	if ev := res.Events[0]; *ev.WaitSeconds != 17 || ev.Topic != "aircall:caller:443308186690" || time.Since(ev.At) > time.Minute {
		t.Errorf("event %+v", ev)
	}
	other, _ := NewSource(gateway.SourceConfig{Name: "aircall", Kind: Kind, Secret: "another-token"})
	if other.Verify(req) == nil {
		t.Error("the doc's delivery verifies with another token")
	}
}
