package postgres

import (
	"testing"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/storage/storagetest"
)

// BenchmarkStore runs the back-end benchmarks every store shares (storagetest.Benchmarks) on
// a fresh schema of the test database, so figures compare with bbolt's.
func BenchmarkStore(b *testing.B) {
	storagetest.Benchmarks(b, func(tb testing.TB) gateway.Store { return openTest(tb) })
}
