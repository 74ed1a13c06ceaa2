package templates

import (
	"strings"
	"testing"
	"time"
)

// Benchmarks of both paths; docs/rendering.md has the figures and the
// commands (go test -run '^$' -bench . -benchmem -cpu 1 ./templates).

var benchMessages = []struct {
	name string
	m    Message
}{
	{"default-en", Message{Tenant: "default", Locale: "en-US", Name: "Zoë O'Brien", Code: "123456", TTL: 10 * time.Minute}},
	{"acme-de", Message{Tenant: "acme", Locale: "de-AT", Name: "Jörg Müller", Code: "123456", TTL: 10 * time.Minute}},
	{"globex-ar", Message{Tenant: "globex", Locale: "ar-EG", Name: "ليلى", Code: "123456", TTL: 10 * time.Minute}},
	{"hostile-name", Message{Tenant: "default", Locale: "ja", Name: "<script>alert(1)</script>\r\n" + strings.Repeat("<&>'\"", 2048), Code: "123456", TTL: 10 * time.Minute}},
}

func benchRender(b *testing.B, render func(Message) (Email, error)) {
	for _, bm := range benchMessages {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := render(bm.m); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "emails/s")
		})
	}
}

func BenchmarkRender(b *testing.B) {
	lib := mustLoad(b)
	benchRender(b, lib.Render)
}

func BenchmarkRenderUncached(b *testing.B) {
	lib := mustLoad(b)
	benchRender(b, lib.RenderUncached)
}

// BenchmarkRenderParallel is the cached path on every core, as a mailer
// Lambda with a batch of messages would use it.
func BenchmarkRenderParallel(b *testing.B) {
	lib := mustLoad(b)
	m := benchMessages[0].m
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := lib.Render(m); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "emails/s")
}

// BenchmarkLoad is the cold-start cost: parse, validate and pre-render
// every embedded set x locale.
func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(Embedded()); err != nil {
			b.Fatal(err)
		}
	}
}
