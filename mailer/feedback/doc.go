// Package feedback is the feedback Lambda's logic: SES's delivery events for
// the configuration set, as SNS delivers them (an SNS event whose message is
// the event record SES publishes), become per-tenant EMF metrics and one
// JSON log line per event that otpctl trace reads.
//
// An event is matched to its send request by the message tags the mailer
// sets (tenant, request_id, template_set, template_version, and kind and
// issued_at when present). The recipient is logged only as its to_hash
// (pseudonym.ToHash under the project's HMAC key), never as the address;
// SES's diagnostic text is logged with addresses masked. No code ever
// reaches this function.
//
// It never returns an error for a record it cannot use (no tags, an event
// type it does not know, a message that is not an SES event): such a
// record is counted and logged, and a retry could only fail the same way.
package feedback
