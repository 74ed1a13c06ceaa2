// Package seslocal is an Amazon SES v2 SendEmail endpoint for otp-local and
// the outbox that catches what it accepts: every email lands in memory (and,
// with a data directory, in one JSON file per email), where tests, the
// benchmark and a developer in a browser can read it.
//
// It speaks REST JSON exactly as aws-sdk-go-v2/service/sesv2 and the AWS JS
// SDK v3 send it (SendEmail, GetAccount, GetEmailIdentity,
// ListEmailIdentities, GetConfigurationSet, the event destination,
// suppression list and tenant operations), answers errors in the shape
// the SDKs turn into typed errors (MessageRejected, NotFoundException,
// LimitExceededException, TooManyRequestsException, ...), and can inject
// latency, throttling and server failures at runtime so that the mailer's
// retries can be watched.
//
// Accepted emails produce the events SES publishes through a configuration
// set's SNS event destination, in SES's record format (a Send at once, a
// Delivery or Bounce a moment later, a Complaint after the Delivery), with
// the mailbox simulator's outcomes; hard bounces and complaints of real
// addresses put them on the account-level suppression list, which the SES
// v2 suppression operations read and change, and a send to a listed
// address bounces without being attempted.
//
// Options can describe the SES account: verified and pending identities,
// configuration sets, the sandbox and the sending quota. SendEmail then
// refuses what SES would refuse, in SES's words; the zero Options accept
// every well-formed email.
//
// SES tenants (multi-tenant sending) are kept too, seeded by Options and
// changed by the tenant operations: a SendEmail with a TenantName is
// refused unless the tenant exists, is not disabled and has the identity
// and configuration set the send uses associated with it. Where AWS leaves
// the errors unsaid, seslocal refuses (the stricter reading), and every
// such refusal names the tenant.
//
// It never delivers mail anywhere and never logs subjects, bodies or full
// addresses: they carry one-time codes. The outbox pages show them, on
// purpose, to whoever can reach the local port.
package seslocal
