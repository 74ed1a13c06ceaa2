package seslocal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/feedback"
)

const topic = "arn:aws:sns:eu-west-1:000000000000:otp-ses-events"

// published records what SES hands SNS.
type published struct {
	mu   sync.Mutex
	msgs []publishedMsg
}

type publishedMsg struct{ topic, subject, message string }

func (p *published) Publish(_ context.Context, topic, subject, message string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, publishedMsg{topic, subject, message})
	return nil
}

// events decodes what was published as the feedback function does, and
// strictly: a member SES does not document fails the test.
func (p *published) events(t *testing.T) []feedback.Event {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []feedback.Event
	for _, m := range p.msgs {
		if m.topic != topic || m.subject != seslocal.EventSubject {
			t.Errorf("published to %s with subject %q", m.topic, m.subject)
		}
		dec := json.NewDecoder(bytes.NewReader([]byte(m.message)))
		dec.DisallowUnknownFields()
		var e feedback.Event
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("not an SES event record: %v\n%s", err, m.message)
		}
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b feedback.Event) int { return order(a) - order(b) })
	return out
}

func (p *published) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = nil
}

// order sorts one email's events as they happen.
func order(e feedback.Event) int {
	return map[string]int{"Send": 0, "Reject": 1, "Bounce": 1, "Delivery": 1, "Complaint": 2}[e.EventType]
}

func eventsEnv(t *testing.T, opts seslocal.Options) (*sesEnv, *published) {
	t.Helper()
	pub := &published{}
	opts.Publisher, opts.EventDelay = pub, 5*time.Millisecond
	opts.ConfigurationSets = append(opts.ConfigurationSets, "otp-events")
	opts.VerifiedIdentities = append(opts.VerifiedIdentities, "acme.test")
	e := newSES(t, opts)
	_, err := e.client.CreateConfigurationSetEventDestination(ctx(t), &sesv2.CreateConfigurationSetEventDestinationInput{
		ConfigurationSetName: aws.String("otp-events"), EventDestinationName: aws.String("feedback"),
		EventDestination: &types.EventDestinationDefinition{Enabled: true, SnsDestination: &types.SnsDestination{TopicArn: aws.String(topic)},
			MatchingEventTypes: []types.EventType{"SEND", "DELIVERY", "BOUNCE", "COMPLAINT", "REJECT", "DELIVERY_DELAY", "RENDERING_FAILURE"}}})
	if err != nil {
		t.Fatal(err)
	}
	return e, pub
}

func tagged(to string) *sesv2.SendEmailInput {
	in := simple(to, "Your sign-in code")
	in.ConfigurationSetName = aws.String("otp-events")
	in.EmailTags = append(in.EmailTags, types.MessageTag{Name: aws.String("request_id"), Value: aws.String("req-1")})
	return in
}

type wantEvent struct {
	eventType, bounceType, bounceSubType string
}

func summary(evs []feedback.Event) []wantEvent {
	var out []wantEvent
	for _, e := range evs {
		w := wantEvent{eventType: e.EventType}
		if e.Bounce != nil {
			w.bounceType, w.bounceSubType = e.Bounce.BounceType, e.Bounce.BounceSubType
		}
		out = append(out, w)
	}
	return out
}

// TestMailboxSimulatorEvents: what SES publishes for each mailbox
// simulator address and for the stand-ins for real mailboxes, in SES's
// record format with the email's tags, and what reaches the account's
// suppression list.
func TestMailboxSimulatorEvents(t *testing.T) {
	e, pub := eventsEnv(t, seslocal.Options{BounceRecipients: []string{"gone@example.com"}, ComplaintRecipients: []string{"@angry.example"}})
	tests := []struct {
		name       string
		in         *sesv2.SendEmailInput
		want       []wantEvent
		suppressed string // the address now on the suppression list, with this reason
		autoReply  bool
	}{
		{"success@: delivered", tagged("success@simulator.amazonses.com"), []wantEvent{{eventType: "Send"}, {eventType: "Delivery"}}, "", false},
		{"bounce@: a hard bounce, not suppressed", tagged("bounce@simulator.amazonses.com"),
			[]wantEvent{{eventType: "Send"}, {"Bounce", "Permanent", "General"}}, "", false},
		{"bounce+label@: the same", tagged("bounce+run-7@simulator.amazonses.com"),
			[]wantEvent{{eventType: "Send"}, {"Bounce", "Permanent", "General"}}, "", false},
		{"complaint@: delivered, then a complaint", tagged("complaint@simulator.amazonses.com"),
			[]wantEvent{{eventType: "Send"}, {eventType: "Delivery"}, {eventType: "Complaint"}}, "", false},
		{"suppressionlist@: bounced as on SES's global list", tagged("suppressionlist@simulator.amazonses.com"),
			[]wantEvent{{eventType: "Send"}, {"Bounce", "Permanent", "Suppressed"}}, "", false},
		{"ooto@: delivered, an auto-reply and no event for it", tagged("ooto@simulator.amazonses.com"),
			[]wantEvent{{eventType: "Send"}, {eventType: "Delivery"}}, "", true},
		{"a real mailbox that bounces goes on the list", tagged("Gone@Example.com"),
			[]wantEvent{{eventType: "Send"}, {"Bounce", "Permanent", "General"}}, "BOUNCE", false},
		{"sent again: accepted, not attempted", tagged("gone@example.com"),
			[]wantEvent{{eventType: "Send"}, {"Bounce", "Permanent", "OnAccountSuppressionList"}}, "BOUNCE", false},
		{"a real complaint goes on the list", tagged("rosa@angry.example"),
			[]wantEvent{{eventType: "Send"}, {eventType: "Delivery"}, {eventType: "Complaint"}}, "COMPLAINT", false},
		{"a virus (the EICAR signature): sent, then rejected", func() *sesv2.SendEmailInput {
			in := tagged("success@simulator.amazonses.com")
			in.Content.Simple.Body.Text.Data = aws.String(`X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`)
			return in
		}(), []wantEvent{{eventType: "Send"}, {eventType: "Reject"}}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pub.reset()
			replies := len(e.srv.AutoReplies())
			id := e.send(tc.in)
			e.srv.WaitEvents()
			evs := pub.events(t)
			if got := summary(evs); !slices.Equal(got, tc.want) {
				t.Fatalf("events %v, want %v", got, tc.want)
			}
			for _, ev := range evs {
				m := ev.Mail
				if m.MessageID != id || m.Tag("tenant") != "acme" || m.Tag("request_id") != "req-1" || m.Tag("ses:configuration-set") != "otp-events" {
					t.Errorf("%s: mail %+v does not name the email and its tags", ev.EventType, m)
				}
				if _, err := time.Parse(time.RFC3339Nano, m.Timestamp); err != nil || m.SendingAccountID != "000000000000" {
					t.Errorf("%s: timestamp %q, account %q", ev.EventType, m.Timestamp, m.SendingAccountID)
				}
			}
			to := tc.in.Destination.ToAddresses[0]
			entry, listed := e.srv.Suppression(to)
			switch {
			case tc.suppressed == "" && listed:
				t.Errorf("%s is on the suppression list (%s); the simulator never is", to, entry.Reason)
			case tc.suppressed != "" && (!listed || entry.Reason != tc.suppressed):
				t.Errorf("suppression list: %+v %v, want %s", entry, listed, tc.suppressed)
			}
			if got := len(e.srv.AutoReplies()) - replies; got != map[bool]int{true: 1}[tc.autoReply] {
				t.Errorf("%d auto-replies", got)
			}
		})
	}
	if got, _ := e.srv.Outbox().Get(e.srv.Outbox().List(seslocal.Filter{To: "gone@example.com", Limit: 1})[0].ID); got.Deliveries[0].Outcome != seslocal.OutcomeAccountSuppressed {
		t.Errorf("the outbox says %s for the send to a listed address", got.Deliveries[0].Outcome)
	}
}

// TestEventDestinationFilters: only the matching event types of an
// enabled SNS destination are published; a send with no configuration
// set publishes nothing.
func TestEventDestinationFilters(t *testing.T) {
	e, pub := eventsEnv(t, seslocal.Options{})
	c := e.client
	if _, err := c.UpdateConfigurationSetEventDestination(ctx(t), &sesv2.UpdateConfigurationSetEventDestinationInput{
		ConfigurationSetName: aws.String("otp-events"), EventDestinationName: aws.String("feedback"),
		EventDestination: &types.EventDestinationDefinition{Enabled: true, SnsDestination: &types.SnsDestination{TopicArn: aws.String(topic)},
			MatchingEventTypes: []types.EventType{"BOUNCE"}}}); err != nil {
		t.Fatal(err)
	}
	e.send(tagged("success@simulator.amazonses.com"))
	e.send(tagged("bounce@simulator.amazonses.com"))
	untagged := tagged("bounce@simulator.amazonses.com")
	untagged.ConfigurationSetName = nil
	e.send(untagged)
	e.srv.WaitEvents()
	if got := summary(pub.events(t)); !slices.Equal(got, []wantEvent{{"Bounce", "Permanent", "General"}}) {
		t.Errorf("BOUNCE only: %v", got)
	}
	pub.reset()
	if _, err := c.UpdateConfigurationSetEventDestination(ctx(t), &sesv2.UpdateConfigurationSetEventDestinationInput{
		ConfigurationSetName: aws.String("otp-events"), EventDestinationName: aws.String("feedback"),
		EventDestination: &types.EventDestinationDefinition{Enabled: false, SnsDestination: &types.SnsDestination{TopicArn: aws.String(topic)},
			MatchingEventTypes: []types.EventType{"BOUNCE"}}}); err != nil {
		t.Fatal(err)
	}
	e.send(tagged("bounce@simulator.amazonses.com"))
	e.srv.WaitEvents()
	if got := pub.events(t); len(got) != 0 {
		t.Errorf("a disabled destination published %d events", len(got))
	}
}

// TestEventDestinationAPI: the operations and SES's errors, through the
// SDK.
func TestEventDestinationAPI(t *testing.T) {
	e, _ := eventsEnv(t, seslocal.Options{})
	c, cx := e.client, ctx(t)
	got, err := c.GetConfigurationSetEventDestinations(cx, &sesv2.GetConfigurationSetEventDestinationsInput{ConfigurationSetName: aws.String("otp-events")})
	if err != nil || len(got.EventDestinations) != 1 {
		t.Fatalf("%+v %v", got, err)
	}
	d := got.EventDestinations[0]
	if aws.ToString(d.Name) != "feedback" || !d.Enabled || aws.ToString(d.SnsDestination.TopicArn) != topic || len(d.MatchingEventTypes) != 7 {
		t.Errorf("destination %+v", d)
	}
	def := &types.EventDestinationDefinition{Enabled: true, SnsDestination: &types.SnsDestination{TopicArn: aws.String(topic)},
		MatchingEventTypes: []types.EventType{"SEND"}}
	create := func(set, name string, def *types.EventDestinationDefinition) error {
		_, err := c.CreateConfigurationSetEventDestination(cx, &sesv2.CreateConfigurationSetEventDestinationInput{
			ConfigurationSetName: aws.String(set), EventDestinationName: aws.String(name), EventDestination: def})
		return err
	}
	var exists *types.AlreadyExistsException
	wantAPIError(t, create("otp-events", "feedback", def), http.StatusBadRequest, "AlreadyExistsException",
		"Event destination feedback already exists in configuration set otp-events.", &exists)
	var notFound *types.NotFoundException
	wantAPIError(t, create("nope", "feedback", def), http.StatusNotFound, "NotFoundException", "Configuration set <nope> does not exist.", &notFound)
	wantAPIError(t, create("otp-events", "bad", &types.EventDestinationDefinition{Enabled: true, SnsDestination: def.SnsDestination,
		MatchingEventTypes: []types.EventType{"TELEPORT"}}), http.StatusBadRequest, "BadRequestException", "Invalid event type TELEPORT in MatchingEventTypes.", nil)
	wantAPIError(t, create("otp-events", "none", &types.EventDestinationDefinition{Enabled: true, MatchingEventTypes: []types.EventType{"SEND"}}),
		http.StatusBadRequest, "BadRequestException",
		"EventDestination must specify a destination (SnsDestination, CloudWatchDestination, KinesisFirehoseDestination, EventBridgeDestination or PinpointDestination).", nil)
	del := func(name string) error {
		_, err := c.DeleteConfigurationSetEventDestination(cx, &sesv2.DeleteConfigurationSetEventDestinationInput{
			ConfigurationSetName: aws.String("otp-events"), EventDestinationName: aws.String(name)})
		return err
	}
	if err := del("feedback"); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, del("feedback"), http.StatusNotFound, "NotFoundException", "Event destination feedback does not exist in configuration set otp-events.", &notFound)
}

// TestSuppressionListAPI: Put, Get, List and Delete SuppressedDestination
// through the SDK, with SES's errors.
func TestSuppressionListAPI(t *testing.T) {
	e := newSES(t, seslocal.Options{})
	c, cx := e.client, ctx(t)
	before := time.Now().Add(-time.Second)
	for addr, reason := range map[string]types.SuppressionListReason{"a@example.com": "BOUNCE", "b@example.com": "COMPLAINT", "c@example.com": "BOUNCE"} {
		if _, err := c.PutSuppressedDestination(cx, &sesv2.PutSuppressedDestinationInput{EmailAddress: aws.String(addr), Reason: reason}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.GetSuppressedDestination(cx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("B@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if d := got.SuppressedDestination; aws.ToString(d.EmailAddress) != "b@example.com" || d.Reason != "COMPLAINT" || d.LastUpdateTime.Before(before) {
		t.Errorf("entry %+v", d)
	}
	var notFound *types.NotFoundException
	_, err = c.GetSuppressedDestination(cx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("nobody@example.com")})
	wantAPIError(t, err, http.StatusNotFound, "NotFoundException", "Email address nobody@example.com does not exist on your suppression list.", &notFound)
	_, err = c.PutSuppressedDestination(cx, &sesv2.PutSuppressedDestinationInput{EmailAddress: aws.String("x@example.com"), Reason: "SPAM"})
	wantAPIError(t, err, http.StatusBadRequest, "BadRequestException", `Invalid Reason "SPAM": BOUNCE or COMPLAINT.`, nil)

	var all []string
	p := sesv2.NewListSuppressedDestinationsPaginator(c, &sesv2.ListSuppressedDestinationsInput{Reasons: []types.SuppressionListReason{"BOUNCE"}, PageSize: aws.Int32(1)})
	for pages := 0; p.HasMorePages(); pages++ {
		page, err := p.NextPage(cx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.SuppressedDestinationSummaries) > 1 || pages > 3 {
			t.Fatalf("page %d: %d entries", pages, len(page.SuppressedDestinationSummaries))
		}
		for _, s := range page.SuppressedDestinationSummaries {
			all = append(all, aws.ToString(s.EmailAddress))
		}
	}
	if !slices.Equal(all, []string{"a@example.com", "c@example.com"}) {
		t.Errorf("BOUNCE entries, a page at a time: %v", all)
	}
	future, err := c.ListSuppressedDestinations(cx, &sesv2.ListSuppressedDestinationsInput{StartDate: aws.Time(time.Now().Add(time.Hour))})
	if err != nil || len(future.SuppressedDestinationSummaries) != 0 {
		t.Errorf("StartDate in the future: %+v %v", future, err)
	}
	if _, err := c.DeleteSuppressedDestination(cx, &sesv2.DeleteSuppressedDestinationInput{EmailAddress: aws.String("a@example.com")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteSuppressedDestination(cx, &sesv2.DeleteSuppressedDestinationInput{EmailAddress: aws.String("a@example.com")})
	if !errors.As(err, &notFound) {
		t.Errorf("deleting twice: %v, want NotFoundException", err)
	}
}
