package stslocal_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/stslocal"
)

func TestGetCallerIdentityWithTheSDK(t *testing.T) {
	hs := httptest.NewServer(&stslocal.Server{AccountID: "123456789012"})
	defer hs.Close()
	out, err := sts.NewFromConfig(awslocal.Config(hs.URL)).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Arn) != "arn:aws:iam::123456789012:user/otp-local" || aws.ToString(out.Account) != "123456789012" || aws.ToString(out.UserId) != "otp-local" {
		t.Errorf("identity %s %s %s", aws.ToString(out.Arn), aws.ToString(out.Account), aws.ToString(out.UserId))
	}
}

func TestErrors(t *testing.T) {
	hs := httptest.NewServer(&stslocal.Server{})
	defer hs.Close()
	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"no action", url.Values{"Version": {stslocal.Version}}, "<Code>MissingAction</Code>"},
		{"another action", url.Values{"Action": {"AssumeRole"}, "Version": {stslocal.Version}}, "<Code>InvalidAction</Code>"},
		{"another version", url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2010-01-01"}}, "<Code>InvalidAction</Code>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(hs.URL, "application/x-www-form-urlencoded", strings.NewReader(tc.form.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 400 || !strings.Contains(string(body), tc.want) || !strings.Contains(string(body), "<ErrorResponse") {
				t.Errorf("%d %s", resp.StatusCode, body)
			}
		})
	}
}

func TestOnlySignedSTSRequestsAreClaimed(t *testing.T) {
	s := &stslocal.Server{}
	for auth, want := range map[string]bool{
		"AWS4-HMAC-SHA256 Credential=k/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0": true,
		"AWS4-HMAC-SHA256 Credential=k/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0": false,
		"": false,
	} {
		r := httptest.NewRequest("POST", "/", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		if got := s.IsRequest(r); got != want {
			t.Errorf("IsRequest with %q = %v", auth, got)
		}
	}
}
