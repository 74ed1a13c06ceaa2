package otplocal

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/lambdart"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/snslocal"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/feedback"
	"github.com/cognito-email-otp/cognito-email-otp/triggers"
	smsecret "github.com/cognito-email-otp/cognito-email-otp/triggers/secret"
)

// SES's delivery events, as the SAM template wires them: the mailer sends
// through the configuration set EventsConfigurationSet, whose SNS event
// destination publishes every event type the feedback function counts to
// EventsTopic, to which the feedback function is subscribed.
const (
	EventsConfigurationSet = "otp-events"
	EventsDestination      = "otp-feedback"
	EventsTopic            = "otp-ses-events"
	// FeedbackFunction is the feedback function's name (its log group is
	// LogGroup("feedback")).
	FeedbackFunction = "otp-feedback"
	// DefaultSESEventDelay is how long after acceptance otp-local's SES
	// reports a delivery or a bounce: SES's own take a second or more.
	DefaultSESEventDelay = time.Second
)

// feedbackEventTypes are the event destination's MatchingEventTypes, the
// SAM template's.
var feedbackEventTypes = []string{"SEND", "DELIVERY", "BOUNCE", "COMPLAINT", "REJECT", "DELIVERY_DELAY", "RENDERING_FAILURE"}

// withEvents adds the configuration set, its SNS destination and SNS
// itself to SES's options.
func (sys *System) withEvents(o Options, opts *seslocal.Options) error {
	sys.SNS = snslocal.New(snslocal.Options{Region: awslocal.Region, AccountID: seslocal.DefaultAccountID,
		RetryDelays: o.FeedbackRetryDelays, InvokeTimeout: 5 * time.Second, Logger: slog.New(slog.NewJSONHandler(o.Logs, nil))})
	topic, err := sys.SNS.CreateTopic(EventsTopic)
	if err != nil {
		return err
	}
	sys.EventsTopicARN = topic
	has := false
	for _, cs := range opts.ConfigurationSets {
		has = has || cs == EventsConfigurationSet
	}
	if !has {
		opts.ConfigurationSets = append(opts.ConfigurationSets, EventsConfigurationSet)
	}
	opts.Publisher, opts.EventDelay = sys.SNS, orDur(o.SESEventDelay, DefaultSESEventDelay)
	opts.EventDestinations = append(opts.EventDestinations, seslocal.EventDestination{
		ConfigurationSet: EventsConfigurationSet, Name: EventsDestination, Enabled: true,
		MatchingEventTypes: feedbackEventTypes, SNSTopicARN: topic,
	})
	return nil
}

// feedbackConfig is the feedback function's configuration, as the SAM
// template gives it: the triggers' HMAC secret, for the recipients'
// to_hash.
func feedbackConfig(keyARN string, refresh time.Duration) feedback.Config {
	return feedback.Config{LogLevel: slog.LevelInfo, MetricsNamespace: MetricsNamespace, HMACSecretARN: keyARN, KeyRefresh: refresh}
}

// feedbackEnv is the environment the real binary runs with.
func feedbackEnv(c feedback.Config) []string {
	return []string{"OTP_METRICS_NAMESPACE=" + c.MetricsNamespace, "OTP_HMAC_SECRET_ARN=" + c.HMACSecretARN, "OTP_KEY_REFRESH=" + c.KeyRefresh.String()}
}

// inProcessFeedback builds the feedback handler in this process; it reads
// its key from otp-local's Secrets Manager over the wire, as on AWS.
func inProcessFeedback(ctx context.Context, c feedback.Config, awsCfg aws.Config, logs io.Writer) (*lambdart.InProcess, error) {
	src := smsecret.Source{Client: secretsmanager.NewFromConfig(awsCfg), ID: c.HMACSecretARN}
	keys, err := triggers.LoadKeyring(ctx, src, c.KeyRefresh)
	if err != nil {
		return nil, fmt.Errorf("otp-local: feedback: %w", err)
	}
	return lambdart.NewInProcess(feedback.New(c, keys, logs).Handle), nil
}

// subscribeFeedback subscribes the feedback function to the events topic.
func (sys *System) subscribeFeedback(fn snslocal.Function) error {
	if _, err := sys.SNS.Subscribe(sys.EventsTopicARN, fn); err != nil {
		return fmt.Errorf("otp-local: subscribe the feedback function: %w", err)
	}
	return nil
}

// WaitFeedback waits until SES has published every event due so far and
// the feedback function has taken each (retries included), for tests.
func (sys *System) WaitFeedback() {
	sys.SES.WaitEvents()
	sys.SNS.Wait()
}

// startFeedback runs the feedback binary (--functions) with the SAM
// template's environment, after the other functions (System.runtimes in
// functionOrder).
func (sys *System) startFeedback(o Options, c feedback.Config, logs func(fn string) io.Writer) (*lambdart.Runtime, error) {
	instances := o.Instances
	if instances == 0 {
		instances = 2
	}
	env := append([]string{
		"AWS_REGION=" + awslocal.Region, "AWS_ACCESS_KEY_ID=otp-local", "AWS_SECRET_ACCESS_KEY=otp-local",
		"AWS_ENDPOINT_URL=" + sys.URL, "OTP_LOG_LEVEL=INFO",
	}, feedbackEnv(c)...)
	rt, err := lambdart.Start(context.Background(), lambdart.Function{
		Name: "feedback", Path: filepath.Join(o.FunctionsDir, "feedback", "bootstrap"),
		Env: env, Instances: instances, Timeout: 5 * time.Second, Stdout: logs("feedback"),
	})
	if err != nil {
		return nil, fmt.Errorf("otp-local: run feedback: %w", err)
	}
	sys.runtimes = append(sys.runtimes, rt)
	return rt, nil
}
