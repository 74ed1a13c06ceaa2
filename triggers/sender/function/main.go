// Command function is the Custom Email Sender Lambda.
package main

import (
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/cognito-email-otp/cognito-email-otp/internal/awsenv"
	"github.com/cognito-email-otp/cognito-email-otp/internal/startup"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/queue"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/sender"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/sender/ciphertext"
)

func main() {
	cfg, err := sender.LoadConfig()
	startup.ExitOnError("sender", err)
	awsCfg, err := awsenv.Config()
	startup.ExitOnError("sender", err)
	// The keyring calls KMS without the invocation's deadline, so the
	// client's own bounds are what keep a slow KMS inside the function's
	// timeout: two tries of at most 2 s each.
	kmsClient := kms.NewFromConfig(awsCfg, func(o *kms.Options) {
		o.RetryMaxAttempts = 2
		o.HTTPClient = &http.Client{Timeout: 2 * time.Second}
	})
	dec, err := ciphertext.NewDecrypter(kmsClient, ciphertext.DecrypterConfig{KeyARN: cfg.KMSKeyARN, UserPoolID: cfg.UserPoolID})
	startup.ExitOnError("sender", err)
	q := queue.New(awsCfg, cfg.QueueURL)
	h := sender.New(cfg, dec, q, q.Client, os.Stdout)
	if startup.Check() {
		startup.Ready("sender")
	}
	lambda.Start(h.Handle)
}
