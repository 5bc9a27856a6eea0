package storagetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// Benchmarks runs the same store benchmarks on any back end, so that their figures compare
// (benchstat across back ends). open returns a fresh, empty store configured as in
// production (fsync on); each sub-benchmark opens its own.
//
//	UpdateParallel          webhook-shaped commits (a dedupe key and an event per Update),
//	                        16 in flight as on a busy 2-core box: group commit on bbolt, the
//	                        write lock's ceiling on PostgreSQL
//	ViewCustomerByIdentity  the decision path's lookup of a recipient among 10,000 customers
//	CountContacts           a cap check over a customer with a month of contacts (one an
//	                        hour) among 49 other customers' contacts
func Benchmarks(b *testing.B, open func(testing.TB) gateway.Store) {
	b.Run("UpdateParallel", func(b *testing.B) { benchUpdateParallel(b, open(b)) })
	b.Run("ViewCustomerByIdentity", func(b *testing.B) { benchViewCustomerByIdentity(b, open(b)) })
	b.Run("CountContacts", func(b *testing.B) { benchCountContacts(b, open(b)) })
}

func benchUpdateParallel(b *testing.B, s gateway.Store) {
	var n atomic.Int64
	raw := []byte(`{"ticket":{"id":5512,"satisfaction":"bad"},"comment":"slow"}`)
	b.SetParallelism(16)
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

func benchViewCustomerByIdentity(b *testing.B, s gateway.Store) {
	const customers = 10000
	err := s.Update(context.Background(), func(tx gateway.Tx) error {
		for i := range customers {
			c := &gateway.Customer{ID: fmt.Sprintf("cus_%d", i), Identities: []gateway.Identity{
				gateway.Identity(fmt.Sprintf("email:c%d@example.com", i)),
			}, Tags: []string{"vip"}, CreatedAt: t0, UpdatedAt: t0}
			if err := tx.PutCustomer(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1) % customers
			err := s.View(context.Background(), func(tx gateway.Tx) error {
				c, err := tx.CustomerByIdentity(gateway.Identity(fmt.Sprintf("email:c%d@example.com", i)))
				if err == nil && c.ID != fmt.Sprintf("cus_%d", i) {
					return fmt.Errorf("identity of cus_%d found %s", i, c.ID)
				}
				return err
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func benchCountContacts(b *testing.B, s gateway.Store) {
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
