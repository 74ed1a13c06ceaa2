package sender

import (
	"github.com/aws/aws-lambda-go/events"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
)

// Event is the Custom Email Sender trigger's event, as Cognito sends it
// (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-custom-email-sender.html).
// aws-lambda-go has no type for it. The header is the one every user pool
// trigger shares: version "1", triggerSource, region, userPoolId,
// userName, callerContext{awsSdkVersion, clientId}.
type Event struct {
	events.CognitoEventUserPoolsHeader
	Request  Request  `json:"request"`
	Response Response `json:"response"`
}

// Request is the event's request.
type Request struct {
	Type string `json:"type"` // RequestTypeV1
	// Code is the code or temporary password, encrypted with the AWS
	// Encryption SDK under the pool's KMSKeyID and base64-encoded; null for
	// an account takeover notice, which carries none.
	Code           *string           `json:"code"`
	ClientMetadata map[string]string `json:"clientMetadata"`
	UserAttributes map[string]string `json:"userAttributes"`
}

// Response is the event's response: Cognito expects it empty.
type Response struct{}

// RequestTypeV1 is request.type for LambdaVersion V1_0, the only version
// AWS::Cognito::UserPool CustomEmailSender takes.
const RequestTypeV1 = "customEmailSenderRequestV1"

// The trigger sources Cognito documents for the custom email sender.
const (
	SourceSignUp                      = "CustomEmailSender_SignUp"
	SourceResendCode                  = "CustomEmailSender_ResendCode"
	SourceForgotPassword              = "CustomEmailSender_ForgotPassword"
	SourceUpdateUserAttribute         = "CustomEmailSender_UpdateUserAttribute"
	SourceVerifyUserAttribute         = "CustomEmailSender_VerifyUserAttribute"
	SourceAdminCreateUser             = "CustomEmailSender_AdminCreateUser"
	SourceAccountTakeOverNotification = "CustomEmailSender_AccountTakeOverNotification"
	SourceAuthentication              = "CustomEmailSender_Authentication"
)

// kinds maps each trigger source to the kind of email it asks for.
var kinds = map[string]contract.Kind{
	SourceSignUp:                      contract.KindSignUpVerification,
	SourceResendCode:                  contract.KindSignUpVerification,
	SourceForgotPassword:              contract.KindPasswordReset,
	SourceUpdateUserAttribute:         contract.KindAttributeVerification,
	SourceVerifyUserAttribute:         contract.KindAttributeVerification,
	SourceAdminCreateUser:             contract.KindInvitation,
	SourceAuthentication:              contract.KindMFACode,
	SourceAccountTakeOverNotification: contract.KindAccountTakeover,
}

// KindOf returns the kind of email a trigger source asks for, and false for
// a source this build does not know.
func KindOf(source string) (contract.Kind, bool) {
	k, ok := kinds[source]
	return k, ok
}

// The user attributes of an account takeover notice: what threat
// protection saw, in place of the user's own attributes.
const (
	attrEventID       = "EVENT_ID"
	attrUserName      = "USER_NAME"
	attrIPAddress     = "IP_ADDRESS"
	attrAction        = "ACCOUNT_TAKE_OVER_ACTION"
	attrLinkValid     = "ONE_CLICK_LINK_VALID"
	attrLinkInvalid   = "ONE_CLICK_LINK_INVALID"
	attrLoginTime     = "LOGIN_TIME"
	attrFeedbackToken = "FEEDBACK_TOKEN"
	attrCity          = "CITY"
	attrCountry       = "COUNTRY"
	attrDeviceName    = "DEVICE_NAME"
	attrEmail         = "email"
)
