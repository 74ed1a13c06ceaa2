// Package triggers implements Cognito's three custom-auth Lambda triggers for
// an emailed one-time code after the password (SRP) step:
//
//   - Define is the state machine: SRP_A -> PASSWORD_VERIFIER ->
//     CUSTOM_CHALLENGE, tokens only after a correct code, and a failed
//     sign-in after too many wrong answers, too many resends or an expired
//     code. It counts from the session Cognito hands it, using the
//     generation marks Create leaves in challengeMetadata.
//   - Create issues a code, keeps only its HMAC, and enqueues one send
//     request for the mailer. It never waits on email.
//   - Verify checks an answer against the HMAC in constant time.
//
// This package never sends email and never stores the code: the code exists
// only in memory in Create, on its way into the send request. No log line,
// error or challenge parameter carries the code, the HMAC key or a full
// email address.
package triggers
