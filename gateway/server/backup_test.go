package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/storage/bolt"
)

// TestBackupWhileServing checks that GET /api/v1/backup streams a store that opens and holds
// what was committed, and that only admins may take it.
func TestBackupWhileServing(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	if r := h.webhook("d1", surveyEvent("d1", "ana@example.com", 1), h.clock.Now(), sourceKey); r.status != http.StatusOK {
		t.Fatalf("webhook: %d %s", r.status, r.body)
	}
	for _, tok := range []string{"", viewerToken, decideToken} {
		if r := h.do(http.MethodGet, "/api/v1/backup", tok, nil); r.status == http.StatusOK {
			t.Fatalf("token %q took a backup", tok)
		}
	}
	r := h.do(http.MethodGet, "/api/v1/backup", adminToken, nil)
	if r.status != http.StatusOK || len(r.body) == 0 {
		t.Fatalf("backup: %d (%d bytes)", r.status, len(r.body))
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, r.body, 0o600); err != nil {
		t.Fatal(err)
	}
	copyStore, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	defer copyStore.Close()
	err = copyStore.View(t.Context(), func(tx gateway.Tx) error {
		_, err := tx.CustomerByIdentity("email:ana@example.com")
		return err
	})
	if err != nil {
		t.Fatalf("customer missing from the backup: %v", err)
	}
}
