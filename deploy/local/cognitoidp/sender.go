package cognitoidp

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
)

// The custom email sender's trigger sources that otp-local's operations
// raise. Cognito also has _ForgotPassword (this project's pools recover
// accounts through an administrator only), _Authentication (Cognito's own
// email MFA, which custom auth replaces) and _AccountTakeOverNotification
// (threat protection, which otp-local does not run); the sender handles
// them from fixtures.
const (
	SourceSignUp              = "CustomEmailSender_SignUp"
	SourceResendCode          = "CustomEmailSender_ResendCode"
	SourceUpdateUserAttribute = "CustomEmailSender_UpdateUserAttribute"
	SourceVerifyUserAttribute = "CustomEmailSender_VerifyUserAttribute"
	SourceAdminCreateUser     = "CustomEmailSender_AdminCreateUser"
)

// clientNotApplicable is the callerContext.clientId of events raised by an
// administrator's call, which names no app client.
const clientNotApplicable = "CLIENT_ID_NOT_APPLICABLE"

// Encryptor encrypts a code or a temporary password as Cognito does for
// custom sender triggers: an AWS Encryption SDK message under the pool's
// KMS key, base64 (package triggers/sender/ciphertext).
type Encryptor interface {
	Encrypt(ctx context.Context, plaintext []byte) (string, error)
}

// EmailSender is the pool's custom email sender: the function, and the
// KMS key (LambdaConfig.KMSKeyID) Cognito encrypts its secrets with. A
// pool without one sends no email at all here (otp-local has no Cognito
// default email), and tests read codes with ConfirmationCode.
type EmailSender struct {
	Function  lambda.Handler
	Encryptor Encryptor
	// RetryDelays are the waits before Lambda's retries of an asynchronous
	// invocation that failed: 1 and 2 minutes, as Lambda does; tests
	// shorten them.
	RetryDelays []time.Duration
}

// SetEmailSender plugs in the custom email sender trigger.
func (s *Server) SetEmailSender(e *EmailSender) {
	s.senderMu.Lock()
	defer s.senderMu.Unlock()
	s.sender = e
}

func (s *Server) emailSender() *EmailSender {
	s.senderMu.Lock()
	defer s.senderMu.Unlock()
	return s.sender
}

// senderEvent is the custom email sender event as Cognito sends it: the
// common header, request.type customEmailSenderRequestV1, the secret as
// ciphertext, and a response Cognito ignores.
type senderEvent struct {
	triggerHeader
	Request struct {
		Type           string            `json:"type"`
		Code           *string           `json:"code"`
		ClientMetadata map[string]string `json:"clientMetadata"`
		UserAttributes map[string]string `json:"userAttributes"`
	} `json:"request"`
	Response struct{} `json:"response"`
}

// outgoing is one email the pool is to send.
type outgoing struct {
	source         string
	user           *User  // a clone, as the user is after the operation
	to             string // the address the email goes to, when not the user's email (a pending new email)
	secret         string // the code or temporary password, in plaintext until sealed
	clientID, sdk  string
	clientMetadata map[string]string
}

// sealed is an email ready to invoke the sender with: the secret is
// encrypted before the operation changes anything, so that a KMS failure
// fails the operation instead of leaving a user with a code no one sent.
type sealed struct {
	sender *EmailSender
	event  senderEvent
}

// seal encrypts the secret and builds the event. It returns nil, nil when
// the pool has no custom email sender.
func (s *Server) seal(ctx context.Context, m outgoing) (*sealed, error) {
	es := s.emailSender()
	if es == nil || es.Function == nil {
		return nil, nil
	}
	ev := senderEvent{triggerHeader: triggerHeader{Version: "1", TriggerSource: m.source, Region: s.region, UserPoolID: s.cfg.PoolID,
		UserName: m.user.Username, CallerContext: events.CognitoEventUserPoolsCallerContext{AWSSDKVersion: m.sdk, ClientID: m.clientID}}}
	ev.Request.Type = "customEmailSenderRequestV1"
	ev.Request.ClientMetadata = nonEmpty(m.clientMetadata)
	attrs := map[string]string{}
	for k, v := range m.user.Attributes {
		attrs[k] = v
	}
	if m.to != "" {
		attrs["email"] = m.to
	}
	attrs["cognito:user_status"] = m.user.Status
	ev.Request.UserAttributes = attrs
	if m.secret != "" {
		if es.Encryptor == nil {
			return nil, fault("InvalidLambdaResponseException", "the custom email sender needs the pool's KMSKeyID")
		}
		ct, err := es.Encryptor.Encrypt(ctx, []byte(m.secret))
		if err != nil {
			// The secret is not in the error: the Encryption SDK never
			// quotes its plaintext.
			s.cfg.Log.Error("custom email sender: encrypt the secret", slog.String("source", m.source), slog.String("error", err.Error()))
			return nil, fault("CodeDeliveryFailureException", "Unable to deliver the code: the user pool's KMS key could not encrypt it.")
		}
		ev.Request.Code = &ct
	}
	return &sealed{sender: es, event: ev}, nil
}

// dispatch invokes the custom email sender asynchronously, as Lambda runs
// an Event invocation: the operation that raised it has already answered,
// a failed invocation is retried twice after RetryDelays, and what still
// fails is only logged. (AWS documents no synchronous contract for this
// trigger; the stricter reading for the product is that its failures never
// reach the user, so the sender must dead-letter what it cannot send.)
func (s *Server) dispatch(e *sealed) {
	if e == nil {
		return
	}
	payload, err := json.Marshal(e.event)
	if err != nil {
		s.cfg.Log.Error("custom email sender: encode the event", slog.String("error", err.Error()))
		return
	}
	delays := e.sender.RetryDelays
	if delays == nil {
		delays = []time.Duration{time.Minute, 2 * time.Minute}
	}
	source := e.event.TriggerSource
	s.async.Add(1)
	go func() {
		defer s.async.Done()
		for attempt := 0; ; attempt++ {
			ctx, cancel := context.WithTimeout(context.Background(), asyncTimeout)
			_, err := e.sender.Function.Invoke(ctx, payload)
			cancel()
			if err == nil {
				s.cfg.Log.Info("custom email sender invoked", slog.String("source", source), slog.Int("attempt", attempt+1))
				return
			}
			s.cfg.Log.Warn("custom email sender failed", slog.String("source", source), slog.Int("attempt", attempt+1), slog.String("error", err.Error()))
			if attempt >= len(delays) {
				return
			}
			time.Sleep(delays[attempt])
		}
	}()
}

// asyncTimeout bounds one asynchronous invocation: the sender function's
// timeout in the SAM template.
const asyncTimeout = 10 * time.Second

// WaitEmails waits for the custom email sender invocations in flight, for
// tests and a clean shutdown.
func (s *Server) WaitEmails() { s.async.Wait() }

// deliveryDetails is Cognito's CodeDeliveryDetailsType for an email.
func deliveryDetails(attribute, address string) map[string]string {
	return map[string]string{"AttributeName": attribute, "DeliveryMedium": "EMAIL", "Destination": contract.MaskEmail(address)}
}

// newCode is a six-digit confirmation or verification code, as Cognito's.
func newCode() string { return fmt.Sprintf("%06d", randomInt(1_000_000)) }
