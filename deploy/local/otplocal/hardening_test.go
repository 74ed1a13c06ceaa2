package otplocal

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
)

// TestOnlyThisMachineAndItsPagesDriveOTPLocal: otp-local holds codes and
// has no authentication, so another web site open in the same browser must
// not be able to drive it, read its outbox or administer its pool.
func TestOnlyThisMachineAndItsPagesDriveOTPLocal(t *testing.T) {
	sys, _ := start(t, Options{CORSOrigins: []string{"http://localhost:5173"}})
	cognito := func(target, origin, host string, signed bool) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, sys.URL+"/", strings.NewReader(`{"UserPoolId":"`+PoolID+`","ClientId":"`+sys.Clients[0].ID+`","Username":"x@example.com","Password":"long-enough-password"}`))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+target)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if signed {
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=otp-local/20261202/us-east-1/cognito-idp/aws4_request, SignedHeaders=host, Signature=0")
		}
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	tests := []struct {
		name       string
		target     string
		origin     string
		host       string
		signed     bool
		wantStatus int
		wantType   string
		wantCORS   string
	}{
		{"a page of otp-local's own signs users up", "SignUp", sys.URL, "", false, http.StatusOK, "", sys.URL},
		{"a developer's app given with --cors-origin", "SignUp", "http://localhost:5173", "", false, http.StatusBadRequest, "UsernameExistsException", "http://localhost:5173"},
		{"another site in the same browser", "SignUp", "https://evil.example", "", false, http.StatusForbidden, "AccessDeniedException", ""},
		{"DNS rebinding: another name for 127.0.0.1", "SignUp", "", "evil.example:7070", false, http.StatusMisdirectedRequest, "", ""},
		{"an admin call from a page, even otp-local's own", "AdminGetUser", sys.URL, "", true, http.StatusForbidden, "AccessDeniedException", sys.URL},
		{"ListUsers from a page", "ListUsers", sys.URL, "", true, http.StatusForbidden, "AccessDeniedException", sys.URL},
		{"an unsigned admin call", "AdminGetUser", "", "", false, http.StatusForbidden, "MissingAuthenticationTokenException", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := cognito(tc.target, tc.origin, tc.host, tc.signed)
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if tc.wantType != "" && !strings.HasPrefix(resp.Header.Get("x-amzn-ErrorType"), tc.wantType) {
				t.Errorf("error type %q, want %s", resp.Header.Get("x-amzn-ErrorType"), tc.wantType)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tc.wantCORS {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tc.wantCORS)
			}
		})
	}

	// A preflight from another site is refused, so the browser never sends
	// the call; the outbox refuses a rebinding Host as well.
	req, _ := http.NewRequest(http.MethodOptions, sys.URL+"/", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another site: %d, ACAO %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	req, _ = http.NewRequest(http.MethodGet, sys.URL+"/outbox/api/emails", nil)
	req.Host = "attacker.example"
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("outbox under another host name: %d, want 421", resp.StatusCode)
	}

	// The operator's signed SDK still administers the pool.
	c := cip.NewFromConfig(awslocal.Config(sys.URL))
	if _, err := c.AdminGetUser(t.Context(), &cip.AdminGetUserInput{UserPoolId: aws.String(PoolID), Username: aws.String("rosa@example.com")}); err != nil {
		t.Errorf("signed AdminGetUser: %v", err)
	}
}

// TestSignUpKeepsToTheClientsWriteAttributes: as Cognito answers a client
// that writes an attribute it may not (aws/aws-sdk-js#1319); a user who
// could set custom:tenant could send from another tenant's address.
func TestSignUpKeepsToTheClientsWriteAttributes(t *testing.T) {
	sys, _ := start(t, Options{})
	c := cip.NewFromConfig(awslocal.Config(sys.URL))
	for _, attr := range []string{"custom:tenant", "email_verified", "phone_number"} {
		_, err := c.SignUp(t.Context(), &cip.SignUpInput{ClientId: aws.String(sys.Clients[0].ID), Username: aws.String("new-" + strings.ReplaceAll(attr, ":", "-") + "@example.com"),
			Password: aws.String("long-enough-password"), UserAttributes: []ciptypes.AttributeType{{Name: aws.String(attr), Value: aws.String("globex")}}})
		var na *ciptypes.NotAuthorizedException
		if !errors.As(err, &na) || !strings.Contains(aws.ToString(na.Message), "unauthorized attribute") {
			t.Errorf("SignUp writing %s: %v, want NotAuthorizedException", attr, err)
		}
	}
	if _, err := c.SignUp(t.Context(), &cip.SignUpInput{ClientId: aws.String(sys.Clients[0].ID), Username: aws.String("ok@example.com"),
		Password: aws.String("long-enough-password"), UserAttributes: []ciptypes.AttributeType{{Name: aws.String("name"), Value: aws.String("Ok")}, {Name: aws.String("locale"), Value: aws.String("de")}}}); err != nil {
		t.Errorf("SignUp with writable attributes: %v", err)
	}
}
