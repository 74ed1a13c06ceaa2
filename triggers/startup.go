package triggers

import (
	"context"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-email-otp/cognito-email-otp/mailer"
)

// LoadKey reads the HMAC key, from the environment or Secrets Manager.
func LoadKey(ctx context.Context, k Key, awsCfg aws.Config) ([]byte, error) {
	var sm SecretGetter
	if k.HMACSecretARN != "" {
		sm = secretsmanager.NewFromConfig(awsCfg)
	}
	return k.Load(ctx, sm)
}

// NewCreate wires the Create trigger to SQS. The Lambda main and otp-local
// both build it here.
func NewCreate(cfg CreateConfig, key []byte, awsCfg aws.Config, logs io.Writer) *Create {
	return &Create{
		Config: cfg,
		Key:    key,
		Queue:  mailer.Queue{Client: sqs.NewFromConfig(awsCfg), URL: cfg.QueueURL},
		Log:    NewLogger(logs, cfg.LogLevel),
	}
}

// NewDefine builds the Define trigger.
func NewDefine(cfg DefineConfig, logs io.Writer) *Define {
	return &Define{Config: cfg, Log: NewLogger(logs, cfg.LogLevel)}
}

// NewVerify builds the Verify trigger.
func NewVerify(cfg VerifyConfig, key []byte, logs io.Writer) *Verify {
	return &Verify{Key: key, Log: NewLogger(logs, cfg.LogLevel)}
}
