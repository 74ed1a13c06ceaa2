package lambdart

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
)

type echoEvent struct {
	ID      int    `json:"id"`
	Padding string `json:"padding"`
}

func echo(_ context.Context, ev echoEvent) (echoEvent, error) { return ev, nil }

// invokeConcurrently sends 2,000 distinct events through h from 16
// goroutines and counts responses that are not the event sent.
func invokeConcurrently(h lambda.Handler) (wrong int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 125 {
				id := g*1000 + i
				in, _ := json.Marshal(echoEvent{ID: id, Padding: strings.Repeat("x", id%97)})
				out, err := h.Invoke(context.Background(), in)
				var got echoEvent
				if err != nil || json.Unmarshal(out, &got) != nil || got.ID != id {
					mu.Lock()
					wrong++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return wrong
}

func TestInProcessGivesEachInvocationItsOwnResponse(t *testing.T) {
	if wrong := invokeConcurrently(NewInProcess(echo)); wrong != 0 {
		t.Errorf("%d of 2000 concurrent invocations got a response that was not theirs", wrong)
	}
}
