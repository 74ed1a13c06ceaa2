package otplocal

import (
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/bench"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/signin"
)

// BenchTarget is this system as `otp-local bench` drives it: through the
// Cognito API with the real SDK client, on the first (untenanted unless the
// seed says otherwise) app client, reading codes from the outbox.
func (sys *System) BenchTarget() bench.Target {
	return bench.Target{
		Pool:   sys.Cognito,
		Outbox: sys.SES.Outbox(),
		Client: signin.Client{Cognito: cip.NewFromConfig(awslocal.Config(sys.URL)), PoolID: PoolID, ClientID: sys.Clients[0].ID},
	}
}
