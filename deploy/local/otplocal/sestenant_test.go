package otplocal

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
)

// TestSESTenantsEndToEnd signs in through the SDK: Globex's template set
// names the SES tenant globex, so its codes go through that tenant and
// Acme's through none; a tenant that lacks the configuration set the
// mailer sends through makes SES refuse the send, the mailer dead-letters
// it as ses_tenant, and once an operator associates the set (the command
// otpctl doctor prints, here through the SDK) the next code goes out.
func TestSESTenantsEndToEnd(t *testing.T) {
	t.Run("the default seed", func(t *testing.T) {
		sys, logs := start(t, Options{})
		ctx := t.Context()
		for _, tc := range []struct{ client, user, sesTenant string }{
			{"otplocalglobexweb00000001", "yuki@example.com", "globex"},
			{"otplocalacmeweb0000000001", "rosa@example.com", ""},
		} {
			if _, err := client(sys, tc.client).Start(ctx, tc.user, DemoPassword); err != nil {
				t.Fatal(err)
			}
			if e, _ := inbox(t, sys, tc.user, 1); e.SESTenant != tc.sesTenant || e.Tags["ses_tenant"] != tc.sesTenant {
				t.Errorf("%s: sent through the SES tenant %q (tag %q), want %q", tc.user, e.SESTenant, e.Tags["ses_tenant"], tc.sesTenant)
			}
		}
		if !strings.Contains(logs.String(), `"ses_tenant":"globex"`) {
			t.Error(`the mailer's log has no "ses_tenant":"globex"`)
		}
	})

	t.Run("a tenant without the configuration set", func(t *testing.T) {
		seed := DefaultSeed()
		ses := *seed.SES
		ses.Tenants = []SeedTenant{{Name: "globex", Identities: []string{"globex.example"}}}
		seed.SES = &ses
		sys, _ := start(t, Options{Seed: seed})
		ctx := t.Context()
		if _, err := client(sys, "otplocalglobexweb00000001").Start(ctx, "yuki@example.com", DemoPassword); err != nil {
			t.Fatal(err)
		}
		q := sqs.NewFromConfig(awslocal.Config(sys.URL))
		dlq, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(DeadLetters)})
		if err != nil {
			t.Fatal(err)
		}
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: dlq.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 10,
			MessageAttributeNames: []string{"All"}})
		if err != nil || len(out.Messages) != 1 {
			t.Fatalf("dead letters: %v %v", out, err)
		}
		attrs := out.Messages[0].MessageAttributes
		if r := aws.ToString(attrs["otp_reason"].StringValue); r != "ses_tenant" {
			t.Errorf("reason %q, want ses_tenant", r)
		}
		if e := aws.ToString(attrs["otp_error"].StringValue); !strings.Contains(e, "configuration-set/"+EventsConfigurationSet) || !strings.Contains(e, "tenant globex") {
			t.Errorf("the error does not say what to associate with which tenant: %q", e)
		}
		if n := sys.SES.Outbox().Count(); n != 0 {
			t.Fatalf("%d emails sent through a tenant SES refuses", n)
		}

		arn := "arn:aws:ses:" + awslocal.Region + ":" + seslocal.DefaultAccountID + ":configuration-set/" + EventsConfigurationSet
		if _, err := sesv2.NewFromConfig(awslocal.Config(sys.URL)).CreateTenantResourceAssociation(ctx,
			&sesv2.CreateTenantResourceAssociationInput{TenantName: aws.String("globex"), ResourceArn: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
		if _, err := client(sys, "otplocalglobexweb00000001").Start(ctx, "yuki@example.com", DemoPassword); err != nil {
			t.Fatal(err)
		}
		waitCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if _, err := sys.SES.Outbox().Wait(waitCtx, seslocal.Filter{To: "yuki@example.com"}.Match); err != nil {
			t.Errorf("no code after the association: %v", err)
		}
	})
}
