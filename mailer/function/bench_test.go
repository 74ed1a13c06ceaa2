package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/s3local"
	"github.com/cognito-email-otp/cognito-email-otp/mailer"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/templates/compiled"
	"github.com/cognito-email-otp/cognito-email-otp/templates/publish"
	"github.com/cognito-email-otp/cognito-email-otp/templates/store"
)

// BenchmarkMailerPerEmail is the mailer's own work per email, batches of
// ten, with SES and the DLQ answered in memory so that nothing but the
// mailer is measured: decode, render, build the SES request, log, EMF.
// templates=embedded renders as the mailer did before the template store;
// templates=store is the Lambda's wiring with the store enabled (main:
// compiled.Load, store.ForMailer, a cold-start Sync), with acme and globex
// published, refreshed every 30 s as deployed or every second. Compare:
//
//	go test -run '^$' -bench MailerPerEmail -count 10 ./mailer/function | tee new.txt
//	go tool benchstat -col /templates new.txt
func BenchmarkMailerPerEmail(b *testing.B) {
	for _, v := range []struct {
		name    string
		refresh time.Duration
	}{
		{"templates=embedded", 0},
		{"templates=store", 30 * time.Second},
		{"templates=store-refresh-1s", time.Second},
	} {
		b.Run(v.name, func(b *testing.B) {
			bundle, err := compiled.Load("")
			if err != nil {
				b.Fatal(err)
			}
			cfg := mailer.Config{DLQURL: "https://sqs.example/dlq", FromAddress: "no-reply@example.com", Concurrency: 10,
				RetryBudget: time.Second, MetricsNamespace: "Bench", TemplatesPrefix: "templates/", TemplatesRefresh: v.refresh}
			var renderer mailer.Renderer = bundle
			if v.refresh > 0 {
				cfg.TemplatesBucket = "otp-templates"
				renderer = publishedStore(b, cfg, bundle)
			}
			h := mailer.New(cfg, aws.Config{Region: "us-east-1"}, renderer, io.Discard)
			h.SES, h.DLQ = nopSES{}, nopDLQ{}
			h.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				now := time.Now()
				var ev events.SQSEvent
				for range 10 {
					i++
					r := contract.SendRequest{V: contract.SendRequestVersion, Kind: contract.KindSignInCode, ID: fmt.Sprintf("req%07d", i), Tenant: []string{"acme", "globex", "default"}[i%3], Locale: "en",
						To: fmt.Sprintf("user%d@example.com", i), Name: "Rosa Díaz", Code: contract.Code(fmt.Sprintf("%06d", 100000+i%900000)),
						IssuedAt: now, ExpiresAt: now.Add(3 * time.Minute)}
					body, _ := r.Encode()
					ev.Records = append(ev.Records, events.SQSMessage{MessageId: r.ID, Body: string(body)})
				}
				if resp, err := h.Handle(ctx, ev); err != nil || len(resp.BatchItemFailures) != 0 {
					b.Fatalf("%v %v", resp, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10), "ns/email")
		})
	}
}

// publishedStore is the template store on gofakes3 with the example
// tenants published, read as the mailer's main reads it.
func publishedStore(b *testing.B, cfg mailer.Config, base *compiled.Bundle) *store.Live {
	srv, err := s3local.New(s3local.Options{Buckets: []string{cfg.TemplatesBucket}})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	b.Cleanup(hs.Close)
	awsCfg := awslocal.Config(hs.URL)
	uploads, err := publish.Embedded("acme", "globex")
	if err != nil {
		b.Fatal(err)
	}
	admin := &store.Admin{Client: store.NewClient(awsCfg), Bucket: cfg.TemplatesBucket, Prefix: cfg.TemplatesPrefix}
	if _, err := admin.Publish(context.Background(), uploads, "bench"); err != nil {
		b.Fatal(err)
	}
	live := store.ForMailer(cfg, awsCfg, base)
	if err := live.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
	if v := live.Current().Version("acme"); v != compiled.VersionOf(uploads[0].Data) {
		b.Fatalf("acme renders from %s, not the store", v)
	}
	return live
}

type nopSES struct{}

func (nopSES) SendEmail(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	return &sesv2.SendEmailOutput{MessageId: aws.String("ses-1")}, nil
}

type nopDLQ struct{}

func (nopDLQ) SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	return &sqs.SendMessageOutput{MessageId: aws.String("dlq-1")}, nil
}
