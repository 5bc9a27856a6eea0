package bolt

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Bucket names.
var (
	bucketMeta                = []byte("meta")
	bucketDeliveries          = []byte("deliveries")           // source NUL id → time
	bucketCustomers           = []byte("customers")            // id → JSON
	bucketIdentities          = []byte("identities")           // identity → customer id
	bucketEvents              = []byte("events")               // customer NUL at seq → JSON (no raw)
	bucketEventSeqs           = []byte("event_seqs")           // customer NUL seq → at + raw payload
	bucketSilences            = []byte("silences")             // id → JSON
	bucketSilencesByStart     = []byte("silences_by_start")    // start id
	bucketSilencesByCustomer  = []byte("silences_by_customer") // customer NUL start id
	bucketOptOuts             = []byte("optouts")
	bucketOptOutsByTime       = []byte("optouts_by_time")
	bucketOptOutsByCustomer   = []byte("optouts_by_customer")
	bucketIncidents           = []byte("incidents")
	bucketIncidentsByTime     = []byte("incidents_by_time")
	bucketDecisions           = []byte("decisions")
	bucketDecisionsByTime     = []byte("decisions_by_time")
	bucketDecisionsByCustomer = []byte("decisions_by_customer")
	bucketContacts            = []byte("contacts")
	bucketContactsByCustomer  = []byte("contacts_by_customer") // customer NUL at id → channel NUL category
	bucketDeadLetters         = []byte("deadletters")
	bucketDeadLettersByTime   = []byte("deadletters_by_time")
	bucketOutbox              = []byte("outbox")
	bucketOutboxByTime        = []byte("outbox_by_time")
	bucketOutboxPending       = []byte("outbox_pending")
	bucketOutboxDead          = []byte("outbox_dead") // created id, dead messages only

	bucketSuppression           = []byte("suppression")             // upstream NUL address → JSON
	bucketSuppressionByCustomer = []byte("suppression_by_customer") // upstream NUL customer NUL address
)

var keySchemaVersion = []byte("schema_version")

// migration upgrades a file from version i to i+1, where i is its index in the list. It runs
// inside the same write transaction that records the new version, so a crash leaves the file
// at the old version.
type migration struct {
	name string
	up   func(*bbolt.Tx) error
}

// migrations is the schema history; len(migrations) is the version this build writes.
// Append only: never edit or reorder an entry that has shipped.
func migrations() []migration {
	return []migration{
		{name: "create buckets", up: func(tx *bbolt.Tx) error {
			for _, name := range [][]byte{
				bucketMeta, bucketDeliveries, bucketCustomers, bucketIdentities, bucketEvents,
				bucketEventSeqs, bucketSilences, bucketSilencesByStart, bucketSilencesByCustomer,
				bucketOptOuts, bucketOptOutsByTime, bucketOptOutsByCustomer, bucketIncidents,
				bucketIncidentsByTime, bucketDecisions, bucketDecisionsByTime,
				bucketDecisionsByCustomer, bucketContacts, bucketContactsByCustomer,
				bucketDeadLetters, bucketDeadLettersByTime, bucketOutbox, bucketOutboxByTime,
				bucketOutboxPending,
			} {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return fmt.Errorf("create bucket %s: %w", name, err)
				}
			}
			return nil
		}},
		{name: "outbox dead index", up: indexDeadOutbox},
		{name: "suppression ledger", up: createSuppressionBuckets},
	}
}

// indexDeadOutbox creates the index of dead outbox messages and files the ones already dead
// (a file written while DeadAt existed but this index did not). It spells out the key
// instead of asking outboxTable, so that it stays what it was when it shipped.
func indexDeadOutbox(tx *bbolt.Tx) error {
	dead, err := tx.CreateBucketIfNotExists(bucketOutboxDead)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketOutboxDead, err)
	}
	return tx.Bucket(bucketOutbox).ForEach(func(id, v []byte) error {
		var m struct {
			CreatedAt   time.Time  `json:"created_at"`
			DeliveredAt *time.Time `json:"delivered_at"`
			DeadAt      *time.Time `json:"dead_at"`
		}
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("decode outbox message %q: %w", id, err)
		}
		if m.DeadAt == nil || m.DeliveredAt != nil {
			return nil
		}
		if err := dead.Put(join(timeKey(m.CreatedAt), id), nil); err != nil {
			return fmt.Errorf("index dead outbox message %q: %w", id, err)
		}
		return nil
	})
}

// ErrNewerSchema is returned by Open for a file written by a newer hush.
var ErrNewerSchema = errors.New("database schema is newer than this build of hush")

// schemaVersion reads the version recorded in the file; a file without it (new, or written
// before versioning) is version 0.
func schemaVersion(tx *bbolt.Tx) (uint64, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return 0, nil
	}
	v := meta.Get(keySchemaVersion)
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("schema version record is %d bytes, want 8", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// migrate brings the file up to len(migs), or refuses a file newer than that.
func migrate(db *bbolt.DB, migs []migration) error {
	return db.Update(func(tx *bbolt.Tx) error {
		have, err := schemaVersion(tx)
		if err != nil {
			return err
		}
		want := uint64(len(migs))
		if have > want {
			return fmt.Errorf("file has schema version %d, this build understands up to %d; run a newer hush or restore a backup: %w", have, want, ErrNewerSchema)
		}
		if have == want {
			return nil
		}
		for v := have; v < want; v++ {
			if err := migs[v].up(tx); err != nil {
				return fmt.Errorf("migrate schema %d → %d (%s): %w", v, v+1, migs[v].name, err)
			}
		}
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return fmt.Errorf("create meta bucket: %w", err)
		}
		return meta.Put(keySchemaVersion, uint64Key(want))
	})
}
