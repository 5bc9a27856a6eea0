package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// BenchmarkUpdatePutEvent measures webhook-shaped commits (a dedupe key and an event per
// Update), many at once as on a busy replica: every Update takes hush's write lock, so this
// is the intake ceiling of one database whatever the number of replicas.
func BenchmarkUpdatePutEvent(b *testing.B) {
	s := openTest(b)
	var n atomic.Int64
	raw := []byte(`{"ticket":{"id":5512,"satisfaction":"bad"},"comment":"slow"}`)
	b.SetParallelism(8)
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

// BenchmarkViewCustomerByIdentity measures the decision path's lookup of a recipient among
// 10,000 customers, from parallel requests.
func BenchmarkViewCustomerByIdentity(b *testing.B) {
	s := openTest(b)
	const customers = 10000
	err := s.Update(context.Background(), func(tx gateway.Tx) error {
		for i := range customers {
			c := &gateway.Customer{ID: fmt.Sprintf("cus_%d", i), Identities: []gateway.Identity{
				gateway.Identity(fmt.Sprintf("email:c%d@example.com", i)),
			}, Tags: []string{"vip"}, CreatedAt: time.Now(), UpdatedAt: time.Now()}
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
