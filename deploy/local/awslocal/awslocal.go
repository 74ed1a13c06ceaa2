// Package awslocal configures real AWS SDK clients to talk to otp-local
// (or any local AWS-compatible endpoint): same clients, same wire protocol,
// a different address and throwaway credentials.
package awslocal

import (
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region is otp-local's region.
const Region = "us-east-1"

// Config returns an SDK configuration for endpoint. Connections are kept
// alive and pooled generously: otp-local's own components call each other
// over loopback at high rates.
func Config(endpoint string) aws.Config {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConns = 256
	transport.MaxIdleConnsPerHost = 256
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("otp-local", "otp-local", ""),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   &http.Client{Transport: transport, Timeout: 30 * time.Second},
	}
}
