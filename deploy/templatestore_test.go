package deploy_test

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cognito-email-otp/cognito-email-otp/mailer"
)

// TestTemplateStore pins the template store's bucket to what the design
// needs (versioned, encrypted, private, TLS only, old versions expire),
// the mailer's access to reading its prefix, and the alarm on failed
// refreshes.
func TestTemplateStore(t *testing.T) {
	tpl := template(t)
	b := props(t, tpl, "TemplateBucket")
	if r := resource(t, tpl, "TemplateBucket"); r["DeletionPolicy"] != "Retain" || r["UpdateReplacePolicy"] != "Retain" {
		t.Errorf("bucket policies %v/%v: a stack change must not delete the published sets", r["DeletionPolicy"], r["UpdateReplacePolicy"])
	}
	if b["VersioningConfiguration"].(map[string]any)["Status"] != "Enabled" {
		t.Error("versioning is off: a replaced index would be gone for good")
	}
	sse := b["BucketEncryption"].(map[string]any)["ServerSideEncryptionConfiguration"].([]any)[0].(map[string]any)["ServerSideEncryptionByDefault"].(map[string]any)
	if a := sse["SSEAlgorithm"]; a != "AES256" && a != "aws:kms" {
		t.Errorf("SSE algorithm %v", a)
	}
	pab := b["PublicAccessBlockConfiguration"].(map[string]any)
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if pab[k] != true {
			t.Errorf("public access block %s = %v", k, pab[k])
		}
	}
	if own := b["OwnershipControls"].(map[string]any)["Rules"].([]any)[0].(map[string]any)["ObjectOwnership"]; own != "BucketOwnerEnforced" {
		t.Errorf("object ownership %v: ACLs should be off", own)
	}
	var expires bool
	for _, r := range b["LifecycleConfiguration"].(map[string]any)["Rules"].([]any) {
		rule := r.(map[string]any)
		if nv, ok := rule["NoncurrentVersionExpiration"].(map[string]any); ok && rule["Status"] == "Enabled" && nv["NoncurrentDays"] != nil {
			expires = true
		}
		if _, ok := rule["ExpirationInDays"]; ok {
			t.Error("a lifecycle rule expires current objects: rollback needs every published bundle")
		}
	}
	if !expires {
		t.Error("no enabled lifecycle rule expires noncurrent versions")
	}

	// TLS only, on the bucket and every object.
	pol := props(t, tpl, "TemplateBucketPolicy")
	if compact(pol["Bucket"]) != "Ref:TemplateBucket" {
		t.Errorf("bucket policy on %v", pol["Bucket"])
	}
	st := pol["PolicyDocument"].(map[string]any)["Statement"].([]any)[0].(map[string]any)
	cond := fmt.Sprint(st["Condition"])
	if st["Effect"] != "Deny" || st["Principal"] != "*" || st["Action"] != "s3:*" || cond != "map[Bool:map[aws:SecureTransport:false]]" ||
		fmt.Sprint(compactAll(st["Resource"])) != "[GetAtt:TemplateBucket.Arn Sub:${TemplateBucket.Arn}/*]" {
		t.Errorf("TLS-only statement %v", st)
	}

	// The mailer reads, only under its prefix; no other function touches S3.
	env := props(t, tpl, "MailerFunction")["Environment"].(map[string]any)["Variables"].(map[string]any)
	prefix := fmt.Sprint(env["OTP_TEMPLATES_PREFIX"])
	if compact(env["OTP_TEMPLATES_BUCKET"]) != "Ref:TemplateBucket" || prefix == "" || !strings.HasSuffix(prefix, "/") {
		t.Errorf("mailer store env: bucket %v prefix %q", env["OTP_TEMPLATES_BUCKET"], prefix)
	}
	var s3 []grant
	for _, fn := range functions {
		for _, g := range grants(t, tpl, fn.resource) {
			if strings.HasPrefix(g.action, "s3:") {
				if fn.resource != "MailerFunction" {
					t.Errorf("%s may %v", fn.resource, g)
				}
				s3 = append(s3, g)
			}
		}
	}
	want := []grant{{"s3:GetObject", "Sub:${TemplateBucket.Arn}/" + prefix + "*"}, {"s3:ListBucket", "GetAtt:TemplateBucket.Arn"}}
	if !slices.Equal(s3, want) {
		t.Errorf("mailer S3 grants %v, want exactly %v (read-only, scoped to OTP_TEMPLATES_PREFIX)", s3, want)
	}

	alarm := props(t, tpl, "TemplateLoadFailuresAlarm")
	if alarm["Namespace"] != "CognitoEmailOTP" || alarm["MetricName"] != mailer.MetricTemplateLoadFailures || alarm["ComparisonOperator"] != "GreaterThanThreshold" || alarm["Threshold"] != 0 {
		t.Errorf("TemplateLoadFailuresAlarm %v", alarm)
	}
	if compact(alarm["AlarmActions"]) == "" || alarm["TreatMissingData"] != "notBreaching" {
		t.Errorf("TemplateLoadFailuresAlarm actions %v, missing data %v", alarm["AlarmActions"], alarm["TreatMissingData"])
	}
	readme, _ := os.ReadFile("../README.md")
	if !bytes.Contains(readme, []byte("TemplateLoadFailuresAlarm")) {
		t.Error("README does not explain TemplateLoadFailuresAlarm")
	}
	if out := tpl["Outputs"].(map[string]any)["TemplateBucketName"]; out == nil {
		t.Error("no TemplateBucketName output for otpctl --bucket")
	}
}
