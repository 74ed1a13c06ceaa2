// Package sender is the Custom Email Sender trigger: Cognito hands it every
// email the user pool itself sends (sign-up confirmation, invitation,
// attribute verification, password reset, its own MFA codes, account
// takeover notices), each code or temporary password encrypted with the
// AWS Encryption SDK under the pool's KMS key. It decrypts the secret,
// and enqueues a send request of the email's kind for the mailer, which
// renders it with the same template sets as the sign-in codes.
//
// Decryption happens here, not in the mailer: the mailer stays free of the
// Encryption SDK (about 9 MB, and serialized: aws-encryption-sdk#902), and
// the key policy names exactly one role that may decrypt. The plaintext
// then rides the SSE-KMS queue as sign-in codes do.
//
// It never sends email, never logs or dead-letters a code, password,
// feedback link or full address, and returns an error only when a retry
// may succeed.
package sender

import (
	"crypto/rand"
	"io"

	"github.com/cognito-email-otp/cognito-email-otp/triggers"
)

// randReader is crypto/rand's reader; tests set Handler.Random instead.
var randReader io.Reader = rand.Reader

// New builds the handler, logging JSON to logs.
func New(cfg Config, d Decrypter, q triggers.Enqueuer, dlq DLQAPI, logs io.Writer) *Handler {
	return &Handler{Config: cfg, Decrypter: d, Queue: q, DLQ: dlq, Log: triggers.NewLogger(logs, cfg.LogLevel)}
}
