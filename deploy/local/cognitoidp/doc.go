// Package cognitoidp is otp-local's Cognito user pool: the subset of the
// Cognito Identity Provider API (JSON 1.1) that a custom-auth sign-in
// needs, faithful enough that the AWS SDKs and Amplify JS talk to it
// unchanged. It runs SRP's server side as Cognito does, invokes the three
// custom-auth triggers through the Lambda handler interface with the event
// JSON Cognito sends, keeps sessions single-use and short-lived, and issues
// RS256 JWTs with a JWKS endpoint.
//
// It keeps a password only as an SRP verifier, and never logs passwords,
// SRP values, challenge answers or tokens.
package cognitoidp
