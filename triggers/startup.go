package triggers

import (
	"io"
)

// NewCreate builds the Create trigger around an enqueuer (queue.SQS on AWS
// and in otp-local). The Lambda main and otp-local both build it here.
func NewCreate(cfg CreateConfig, key []byte, q Enqueuer, logs io.Writer) *Create {
	return &Create{Config: cfg, Key: key, Queue: q, Log: NewLogger(logs, cfg.LogLevel)}
}

// NewDefine builds the Define trigger.
func NewDefine(cfg DefineConfig, logs io.Writer) *Define {
	return &Define{Config: cfg, Log: NewLogger(logs, cfg.LogLevel)}
}

// NewVerify builds the Verify trigger.
func NewVerify(cfg VerifyConfig, key []byte, logs io.Writer) *Verify {
	return &Verify{Key: key, Log: NewLogger(logs, cfg.LogLevel)}
}
