package sqslocal_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/internal/nodetest"
)

// TestJSSDK runs deploy/local/e2e/sqs.test.mjs: the AWS JS SDK v3 SQS client
// against this server (send and receive with attributes, delete, batches,
// typed errors).
func TestJSSDK(t *testing.T) {
	nodetest.Require(t)
	e := newEnv(t, false)
	out := nodetest.Run(t, "sqs.test.mjs", map[string]string{"SQS_ENDPOINT": e.url}, 60*time.Second)

	lines := strings.Split(strings.TrimSpace(out), "\n")
	var result struct {
		OK        bool   `json:"ok"`
		MessageID string `json:"messageId"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &result); err != nil || !result.OK {
		t.Fatalf("script output %q: %v", out, err)
	}
	// The script leaves its queue empty; check from the server's side.
	for _, st := range e.srv.Stats() {
		if st.Name == "node-e2e" && st.Visible+st.InFlight+st.Delayed != 0 {
			t.Errorf("queue node-e2e holds %+v after the script", st)
		}
	}
}
