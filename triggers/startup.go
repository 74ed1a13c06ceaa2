package triggers

import (
	"io"

	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget"
)

// NewCreate builds the Create trigger around an enqueuer (queue.SQS on AWS
// and in otp-local) and the failure budget. The Lambda main and otp-local
// both build it here.
func NewCreate(cfg CreateConfig, keys *Keyring, q Enqueuer, b *budget.Ledger, logs io.Writer) *Create {
	return &Create{Config: cfg, Keys: keys, Queue: q, Budget: b, Log: NewLogger(logs, cfg.LogLevel)}
}

// NewDefine builds the Define trigger.
func NewDefine(cfg DefineConfig, keys *Keyring, b *budget.Ledger, logs io.Writer) *Define {
	return &Define{Config: cfg, Keys: keys, Budget: b, Log: NewLogger(logs, cfg.LogLevel)}
}

// NewVerify builds the Verify trigger.
func NewVerify(cfg VerifyConfig, keys *Keyring, b *budget.Ledger, logs io.Writer) *Verify {
	return &Verify{Config: cfg, Keys: keys, Budget: b, Log: NewLogger(logs, cfg.LogLevel)}
}

// NewLedger is the failure budget a configuration describes, over store.
func NewLedger(cfg BudgetConfig, store budget.Store) *budget.Ledger {
	return &budget.Ledger{Policy: cfg.Policy(), Store: store}
}
