package compiled_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/templates/compiled"
)

// The same messages as templates' BenchmarkRender, so that the figures
// compare (docs/rendering.md):
//
//	go test -run '^$' -bench . -benchmem -cpu 1 ./templates/compiled
var benchRequests = []struct {
	name string
	r    contract.SendRequest
}{
	{"default-en", request("default", "en-US", "Zoë O'Brien", "123456", 10*time.Minute)},
	{"acme-de", request("acme", "de-AT", "Jörg Müller", "123456", 10*time.Minute)},
	{"globex-ar", request("globex", "ar-EG", "ليلى", "123456", 10*time.Minute)},
	{"hostile-name", request("default", "ja", "<script>alert(1)</script>\r\n"+strings.Repeat("<&>'\"", 2048), "123456", 10*time.Minute)},
}

func BenchmarkCompiledRender(b *testing.B) {
	bundle := embedded(b)
	ctx := context.Background()
	for _, bm := range benchRequests {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bundle.Render(ctx, bm.r); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "emails/s")
		})
	}
}

// BenchmarkCompiledLoad is the mailer's cold-start template cost: decode
// and validate the embedded bundle.
func BenchmarkCompiledLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := compiled.Embedded(); err != nil {
			b.Fatal(err)
		}
	}
}
