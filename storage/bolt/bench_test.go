package bolt

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// BenchmarkUpdateParallel measures webhook-shaped commits: a dedupe key and an event per
// Update, many at once, with real fsync, so group commit is what is being measured.
func BenchmarkUpdateParallel(b *testing.B) {
	s, _ := openTemp(b, Options{})
	var n atomic.Int64
	raw := []byte(`{"ticket":{"id":5512,"satisfaction":"bad"},"comment":"slow"}`)
	b.SetParallelism(16) // about the requests in flight on a busy 2-core box
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			id := fmt.Sprintf("d%d", i)
			err := s.Update(context.Background(), func(tx gateway.Tx) error {
				if err := tx.PutDelivery("zendesk", id, time.Unix(i, 0)); err != nil {
					return err
				}
				return tx.PutEvent(&gateway.Event{
					ID: id, Source: "zendesk", Type: gateway.EventSurveyResponse, At: time.Unix(i, 0).UTC(),
					CustomerID: fmt.Sprintf("cus_%d", i%1000), Raw: raw,
				})
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCountContacts measures a cap check over a customer with a month of contacts
// (one an hour) among other customers' contacts.
func BenchmarkCountContacts(b *testing.B) {
	s, _ := openTemp(b, Options{NoSync: true})
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	err := s.Update(context.Background(), func(tx gateway.Tx) error {
		for c := range 50 {
			for h := range 30 * 24 {
				err := tx.PutContact(&gateway.Contact{
					ID: fmt.Sprintf("con_%d_%d", c, h), CustomerID: fmt.Sprintf("cus_%d", c),
					At: start.Add(time.Duration(h) * time.Hour), Channel: gateway.Channels[h%len(gateway.Channels)],
					Category: gateway.CategorySales,
				})
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	since := start.Add(7 * 24 * time.Hour) // the last 23 days of the month
	b.ResetTimer()
	for b.Loop() {
		err := s.View(context.Background(), func(tx gateway.Tx) error {
			n, err := tx.CountContacts("cus_7", since, gateway.ChannelVoice, gateway.CategorySales)
			if err == nil && n == 0 {
				return fmt.Errorf("counted no contacts")
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
