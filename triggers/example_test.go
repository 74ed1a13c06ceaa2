package triggers_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/triggers"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget"
)

// yourQueue stands for however your app delivers email: the mailer's SQS
// queue (mailer/queue.New), or a sender of your own. It only has to
// enqueue and return; Cognito waits on Create.
type yourQueue struct{ last contract.SendRequest }

func (q *yourQueue) Enqueue(_ context.Context, r contract.SendRequest) error {
	q.last = r
	return nil
}

// Example_inYourOwnMain wires the three triggers into Lambdas of your own.
// In a real main, each handler goes to lambda.Start (see triggers/define,
// triggers/create and triggers/verify), the configuration comes from the
// function's OTP_* environment, the key from Secrets Manager
// (secret.LoadKeyring) and the failure budget from DynamoDB
// (dynamostore.New). Here one sign-in runs through the handlers directly:
// password verified, code issued, code answered.
func Example_inYourOwnMain() {
	ctx := context.Background()
	for k, v := range map[string]string{
		"OTP_BUDGET_TABLE": "otp-budget",
		"OTP_QUEUE_URL":    "https://sqs.eu-west-1.amazonaws.com/123456789012/otp-send",
		"OTP_HMAC_KEY":     "an example key of at least thirty-two bytes, never this one",
	} {
		old, had := os.LookupEnv(k)
		os.Setenv(k, v)
		defer func() { // the test binary's other tests must not see these
			if had {
				os.Setenv(k, old)
			} else {
				os.Unsetenv(k)
			}
		}()
	}
	defineCfg, err := triggers.LoadDefineConfig()
	if err != nil {
		fmt.Println(err)
		return
	}
	createCfg, _ := triggers.LoadCreateConfig()
	verifyCfg, _ := triggers.LoadVerifyConfig()
	keys, _ := defineCfg.Key.Keyring(ctx, nil) // OTP_HMAC_SECRET_ARN: pass a secret.Source
	ledger := triggers.NewLedger(defineCfg.BudgetConfig, &budget.MemoryStore{})
	queue := &yourQueue{}

	define := triggers.NewDefine(defineCfg, keys, ledger, io.Discard)
	create := triggers.NewCreate(createCfg, keys, queue, ledger, io.Discard)
	verify := triggers.NewVerify(verifyCfg, keys, ledger, io.Discard)

	user := map[string]string{"sub": "7f3e2a10-5c4b-4d21-9e8f-0a1b2c3d4e5f", "email": "rosa@example.com", "email_verified": "true", "locale": "es"}
	header := events.CognitoEventUserPoolsHeader{Version: "1", UserPoolID: "eu-west-1_Ab12Cd34E", UserName: user["sub"],
		CallerContext: events.CognitoEventUserPoolsCallerContext{ClientID: "4abcdefghij5klmnop6qrstuvw"}}
	session := []*events.CognitoEventUserPoolsChallengeResult{
		{ChallengeName: "SRP_A", ChallengeResult: true},
		{ChallengeName: "PASSWORD_VERIFIER", ChallengeResult: true},
	}

	// Define: the password is right, so the emailed code comes next.
	d := events.CognitoEventUserPoolsDefineAuthChallenge{CognitoEventUserPoolsHeader: header}
	d.TriggerSource = "DefineAuthChallenge_Authentication"
	d.Request.UserAttributes, d.Request.Session = user, session
	d, _ = define.Handle(ctx, d)
	fmt.Println("define:", d.Response.ChallengeName)

	// Create: a code is made, its HMAC kept, the send request enqueued.
	c := events.CognitoEventUserPoolsCreateAuthChallenge{CognitoEventUserPoolsHeader: header}
	c.TriggerSource = "CreateAuthChallenge_Authentication"
	c.Request.UserAttributes, c.Request.Session, c.Request.ChallengeName = user, session, "CUSTOM_CHALLENGE"
	c, _ = create.Handle(ctx, c)
	fmt.Println("create: emailed to", c.Response.PublicChallengeParameters[triggers.ParamEmail])
	fmt.Println("create: the queue got a", len(queue.last.Code), "digit code for locale", queue.last.Locale)
	// A contract.Code prints as [redacted]; Reveal is for the email alone.
	fmt.Println("create: the code is in no challenge parameter:", !strings.Contains(fmt.Sprint(c.Response), queue.last.Code.Reveal()))

	// Verify: the user types the code from the email.
	v := events.CognitoEventUserPoolsVerifyAuthChallenge{CognitoEventUserPoolsHeader: header}
	v.TriggerSource = "VerifyAuthChallengeResponse_Authentication"
	v.Request.UserAttributes, v.Request.PrivateChallengeParameters = user, c.Response.PrivateChallengeParameters
	v.Request.ChallengeAnswer = queue.last.Code.Reveal()
	v, _ = verify.Handle(ctx, v)
	fmt.Println("verify: answer correct:", v.Response.AnswerCorrect)
	// Output:
	// define: CUSTOM_CHALLENGE
	// create: emailed to r***@example.com
	// create: the queue got a 6 digit code for locale es
	// create: the code is in no challenge parameter: true
	// verify: answer correct: true
}
