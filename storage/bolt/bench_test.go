package bolt

import (
	"testing"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/storage/storagetest"
)

// BenchmarkStore runs the back-end benchmarks every store shares (storagetest.Benchmarks) on
// a bbolt file with real fsync.
func BenchmarkStore(b *testing.B) {
	storagetest.Benchmarks(b, func(tb testing.TB) gateway.Store {
		s, _ := openTemp(tb, Options{})
		return s
	})
}
