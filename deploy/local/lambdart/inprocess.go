package lambdart

import (
	"bytes"
	"context"
	"sync"

	"github.com/aws/aws-lambda-go/lambda"
)

// InProcess runs a handler function in this process the way Lambda runs a
// function: each concurrent invocation gets its own execution environment,
// here its own lambda.Handler.
//
// One lambda.Handler must not be invoked concurrently: the bytes its
// Invoke returns live in a pooled buffer that the handler hands to its
// next invocation, so two at once can return each other's (or a torn)
// response. Lambda never does that (an environment runs one event at a
// time); otp-local's Cognito and event source mapping would, under load.
type InProcess struct {
	handler any
	idle    sync.Pool
}

// NewInProcess wraps a handler function as lambda.NewHandler accepts it.
func NewInProcess(handler any) *InProcess {
	p := &InProcess{handler: handler}
	p.idle.New = func() any { return lambda.NewHandler(handler) }
	return p
}

// Invoke runs one event in an environment no other invocation is using, and
// returns a response that stays valid after the environment is reused.
func (p *InProcess) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	h := p.idle.Get().(lambda.Handler)
	defer p.idle.Put(h)
	out, err := h.Invoke(ctx, payload)
	return bytes.Clone(out), err
}
