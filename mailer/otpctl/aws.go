package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
)

// errNoCredentials replaces the SDK's answer when the default chain finds
// nothing: after trying the instance metadata service it reports an IMDS
// timeout, which says nothing to someone at a laptop.
var errNoCredentials = errors.New("no AWS credentials found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), " +
	"or give --endpoint http://127.0.0.1:7070 to use otp-local")

var errNoRegion = errors.New("no AWS region: give --region, or set AWS_REGION or the profile's region")

// credentialsWait bounds the default chain's search, which ends at the
// instance metadata service and its retries.
const credentialsWait = 10 * time.Second

// config is the AWS configuration the global flags name: otp-local with
// --endpoint, else the default chain, checked for credentials and a region
// before the first call so that a missing one is said in one line.
func (g *globals) config(ctx context.Context) (aws.Config, error) {
	if g.endpoint != "" {
		cfg := awslocal.Config(g.endpoint)
		if g.region != "" {
			cfg.Region = g.region
		}
		return cfg, nil
	}
	var opts []func(*awsconfig.LoadOptions) error
	if g.region != "" {
		opts = append(opts, awsconfig.WithRegion(g.region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return cfg, errNoRegion
	}
	wait, cancel := context.WithTimeout(ctx, credentialsWait)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(wait); err != nil {
		return cfg, fmt.Errorf("%w (%v)", errNoCredentials, shortError(err))
	}
	return cfg, nil
}

// shortError keeps the innermost cause of a credential chain's error, the
// part worth a look ("failed to refresh cached credentials, …: …").
func shortError(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
