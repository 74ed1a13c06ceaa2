// Package awsenv builds the AWS SDK configuration a Lambda needs from its
// environment, and nothing more. It is separate from package startup so
// that a function without AWS calls (Define) links no SDK at all.
package awsenv

import (
	"cmp"
	"errors"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Config builds the SDK configuration from what Lambda puts in the
// environment: the region and the execution role's credentials. That is
// all config.LoadDefaultConfig would resolve inside Lambda, without linking
// its SSO, STS, IMDS and shared-file machinery (2 MB of binary and a slower
// cold start). AWS_ENDPOINT_URL points every client elsewhere, e.g. at
// otp-local.
func Config() (aws.Config, error) {
	region := cmp.Or(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"))
	if region == "" {
		return aws.Config{}, errors.New("AWS_REGION is not set (Lambda sets it; set it for local runs)")
	}
	key, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if key == "" || secret == "" {
		return aws.Config{}, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (Lambda sets them from the execution role)")
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(key, secret, os.Getenv("AWS_SESSION_TOKEN"))),
	}
	if ep := os.Getenv("AWS_ENDPOINT_URL"); ep != "" {
		cfg.BaseEndpoint = aws.String(ep)
	}
	return cfg, nil
}
