package seslocal

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"sync"
)

// An event destination of a configuration set (SES v2
// CreateConfigurationSetEventDestination). Only an SNS destination
// publishes anything here: its events go to Options.Publisher with the
// record SES writes to SNS. The other kinds (CloudWatch, Firehose,
// EventBridge, Pinpoint) are stored and reported, and publish nothing.
type EventDestination struct {
	// ConfigurationSet is the set the destination belongs to; Name is
	// unique within it.
	ConfigurationSet string
	Name             string
	Enabled          bool
	// MatchingEventTypes are SES v2's event types: SEND, REJECT, BOUNCE,
	// COMPLAINT, DELIVERY, OPEN, CLICK, RENDERING_FAILURE, DELIVERY_DELAY,
	// SUBSCRIPTION.
	MatchingEventTypes []string
	// SNSTopicARN is the SnsDestination's TopicArn; "" for another kind.
	SNSTopicARN string
	// other holds the non-SNS destination members as the request sent
	// them, so GetConfigurationSetEventDestinations reports them back.
	other map[string]json.RawMessage
}

// The event types SES v2 accepts in MatchingEventTypes.
var eventTypes = map[string]bool{
	"SEND": true, "REJECT": true, "BOUNCE": true, "COMPLAINT": true, "DELIVERY": true, "OPEN": true,
	"CLICK": true, "RENDERING_FAILURE": true, "DELIVERY_DELAY": true, "SUBSCRIPTION": true,
}

// maxDestinations is SES's limit of event destinations per configuration
// set (SES quotas: 10).
const maxDestinations = 10

var (
	destinationNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	topicARNRE        = regexp.MustCompile(`^arn:aws(?:-cn|-us-gov)?:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?$`)
)

// destinations are the account's event destinations, by set then name.
type destinations struct {
	mu   sync.RWMutex
	sets map[string]map[string]EventDestination
}

func (d *destinations) validate(dest EventDestination) *apiError {
	if !destinationNameRE.MatchString(dest.Name) {
		return badRequest("Invalid EventDestinationName %q: 1 to 64 letters, digits, '_' or '-'.", dest.Name)
	}
	if len(dest.MatchingEventTypes) == 0 {
		return badRequest("MatchingEventTypes must contain at least one event type.")
	}
	for _, t := range dest.MatchingEventTypes {
		if !eventTypes[t] {
			return badRequest("Invalid event type %s in MatchingEventTypes.", t)
		}
	}
	if dest.SNSTopicARN == "" && len(dest.other) == 0 {
		return badRequest("EventDestination must specify a destination (SnsDestination, CloudWatchDestination, KinesisFirehoseDestination, EventBridgeDestination or PinpointDestination).")
	}
	if dest.SNSTopicARN != "" && !topicARNRE.MatchString(dest.SNSTopicARN) {
		return badRequest("Invalid TopicArn %s.", dest.SNSTopicARN)
	}
	if dest.SNSTopicARN != "" && len(dest.other) > 0 {
		return badRequest("EventDestination must specify exactly one destination.")
	}
	return nil
}

// put creates (create true) or replaces a destination.
func (d *destinations) put(dest EventDestination, create bool) *apiError {
	if err := d.validate(dest); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sets == nil {
		d.sets = map[string]map[string]EventDestination{}
	}
	set := d.sets[dest.ConfigurationSet]
	if set == nil {
		set = map[string]EventDestination{}
		d.sets[dest.ConfigurationSet] = set
	}
	_, exists := set[dest.Name]
	switch {
	case create && exists:
		return &apiError{http.StatusBadRequest, "AlreadyExistsException",
			fmt.Sprintf("Event destination %s already exists in configuration set %s.", dest.Name, dest.ConfigurationSet)}
	case !create && !exists:
		return destinationNotFound(dest.ConfigurationSet, dest.Name)
	case create && len(set) >= maxDestinations:
		return &apiError{http.StatusBadRequest, "LimitExceededException",
			fmt.Sprintf("Configuration set %s already has %d event destinations.", dest.ConfigurationSet, maxDestinations)}
	}
	dest.MatchingEventTypes = slices.Clone(dest.MatchingEventTypes)
	set[dest.Name] = dest
	return nil
}

func destinationNotFound(set, name string) *apiError {
	return &apiError{http.StatusNotFound, "NotFoundException",
		fmt.Sprintf("Event destination %s does not exist in configuration set %s.", name, set)}
}

func (d *destinations) remove(set, name string) *apiError {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.sets[set][name]; !ok {
		return destinationNotFound(set, name)
	}
	delete(d.sets[set], name)
	return nil
}

// list returns a set's destinations in name order.
func (d *destinations) list(set string) []EventDestination {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]EventDestination, 0, len(d.sets[set]))
	for _, dest := range d.sets[set] {
		out = append(out, dest)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// topics are the SNS topics of a set's enabled destinations that match
// an SES v2 event type.
func (d *destinations) topics(set, eventType string) []string {
	var out []string
	for _, dest := range d.list(set) {
		if dest.Enabled && dest.SNSTopicARN != "" && slices.Contains(dest.MatchingEventTypes, eventType) {
			out = append(out, dest.SNSTopicARN)
		}
	}
	return out
}

// eventDestinationBody is the EventDestination member of the create and
// update requests, and of GetConfigurationSetEventDestinations' answer.
type eventDestinationBody struct {
	Name               string   `json:"Name,omitempty"`
	Enabled            bool     `json:"Enabled"`
	MatchingEventTypes []string `json:"MatchingEventTypes"`
	SnsDestination     *struct {
		TopicArn string `json:"TopicArn"`
	} `json:"SnsDestination,omitempty"`
}

var otherDestinations = []string{"CloudWatchDestination", "KinesisFirehoseDestination", "EventBridgeDestination", "PinpointDestination"}

func decodeDestination(raw json.RawMessage, set, name string) (EventDestination, *apiError) {
	var b eventDestinationBody
	var all map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &b) != nil || json.Unmarshal(raw, &all) != nil {
		return EventDestination{}, badRequest("EventDestination is missing or not a valid object.")
	}
	dest := EventDestination{ConfigurationSet: set, Name: name, Enabled: b.Enabled, MatchingEventTypes: b.MatchingEventTypes}
	if b.SnsDestination != nil {
		dest.SNSTopicARN = b.SnsDestination.TopicArn
		if dest.SNSTopicARN == "" {
			return dest, badRequest("SnsDestination must have a TopicArn.")
		}
	}
	for _, k := range otherDestinations {
		if v, ok := all[k]; ok && string(v) != "null" {
			if dest.other == nil {
				dest.other = map[string]json.RawMessage{}
			}
			dest.other[k] = v
		}
	}
	return dest, nil
}

func encodeDestination(d EventDestination) map[string]any {
	out := map[string]any{"Name": d.Name, "Enabled": d.Enabled, "MatchingEventTypes": d.MatchingEventTypes}
	if d.SNSTopicARN != "" {
		out["SnsDestination"] = map[string]string{"TopicArn": d.SNSTopicARN}
	}
	for k, v := range d.other {
		out[k] = v
	}
	return out
}

// The event destination operations, on a configuration set that exists.

func (s *Server) createEventDestination(set string, body []byte) (any, *apiError) {
	if !s.account.configSets[set] {
		return nil, configSetNotFound(set)
	}
	var in struct {
		EventDestinationName string          `json:"EventDestinationName"`
		EventDestination     json.RawMessage `json:"EventDestination"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, badRequest("request body is not a valid CreateConfigurationSetEventDestination request: %v", err)
	}
	dest, aerr := decodeDestination(in.EventDestination, set, in.EventDestinationName)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := s.destinations.put(dest, true); aerr != nil {
		return nil, aerr
	}
	return struct{}{}, nil
}

func (s *Server) updateEventDestination(set, name string, body []byte) (any, *apiError) {
	if !s.account.configSets[set] {
		return nil, configSetNotFound(set)
	}
	var in struct {
		EventDestination json.RawMessage `json:"EventDestination"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, badRequest("request body is not a valid UpdateConfigurationSetEventDestination request: %v", err)
	}
	dest, aerr := decodeDestination(in.EventDestination, set, name)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := s.destinations.put(dest, false); aerr != nil {
		return nil, aerr
	}
	return struct{}{}, nil
}

func (s *Server) getEventDestinations(set string) (any, *apiError) {
	if !s.account.configSets[set] {
		return nil, configSetNotFound(set)
	}
	out := []map[string]any{}
	for _, d := range s.destinations.list(set) {
		out = append(out, encodeDestination(d))
	}
	return map[string]any{"EventDestinations": out}, nil
}

func (s *Server) deleteEventDestination(set, name string) (any, *apiError) {
	if !s.account.configSets[set] {
		return nil, configSetNotFound(set)
	}
	if aerr := s.destinations.remove(set, name); aerr != nil {
		return nil, aerr
	}
	return struct{}{}, nil
}

// EventDestinations returns a configuration set's event destinations.
func (s *Server) EventDestinations(set string) []EventDestination { return s.destinations.list(set) }
