package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/templates/publish"
	"github.com/cognito-email-otp/cognito-email-otp/templates/store"
)

// BenchmarkRefresh is what the mailer pays, off the per-email path, to
// look at the store: unchanged (one conditional GET answered 304, nothing
// decoded) and cold (index and two bundles fetched, hashed, decoded,
// validated, trial-rendered), against gofakes3 over loopback.
//
//	go test -run '^$' -bench Refresh -count 10 ./templates/store
func BenchmarkRefresh(b *testing.B) {
	admin, c := newStore(b)
	ctx := context.Background()
	uploads, err := publish.Embedded("acme", "globex")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := admin.Publish(ctx, uploads, "bench"); err != nil {
		b.Fatal(err)
	}
	base := embedded(b)
	opts := store.Options{Client: c, Bucket: bucket, Prefix: prefix, Refresh: time.Nanosecond}
	b.Run("unchanged", func(b *testing.B) {
		live := store.NewLive(base, opts)
		if err := live.Sync(ctx); err != nil {
			b.Fatal(err)
		}
		before := live.Current()
		total, cond, _ := c.snapshot()
		b.ReportAllocs()
		for b.Loop() {
			if err := live.Sync(ctx); err != nil {
				b.Fatal(err)
			}
		}
		t2, cond2, _ := c.snapshot()
		if live.Current() != before || t2-total != cond2-cond {
			b.Fatal("an unchanged store was not a conditional GET alone")
		}
		b.ReportMetric(float64(t2-total)/float64(b.N), "GETs/refresh")
	})
	b.Run("cold", func(b *testing.B) {
		total, _, _ := c.snapshot()
		b.ReportAllocs()
		for b.Loop() {
			if err := store.NewLive(base, opts).Sync(ctx); err != nil {
				b.Fatal(err)
			}
		}
		t2, _, _ := c.snapshot()
		b.ReportMetric(float64(t2-total)/float64(b.N), "GETs/refresh")
	})
}
