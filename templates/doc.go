// Package templates owns the one-time-code email: the template sets (a
// tenant's branding in theme.yaml and its wording in locales/<tag>.yaml),
// where sets come from (the embedded defaults, an operator's directory), the
// choice of set and locale for a send request, and the rendering of the
// HTML and plain-text bodies with hermes.
//
// It must never log, never send, and never put the code or the recipient's
// name into an error: it turns a Message into an Email and nothing else. A
// send request is untrusted input: rendering never panics, cleans the
// display name instead of rejecting it, and escapes it in HTML.
//
// Rendering is a hot path. hermes runs premailer (CSS inlining) on every
// call, which costs milliseconds, so Load renders each (set, locale) once
// with marker tokens and Render fills the markers in; RenderUncached keeps
// the plain hermes path, and the two must agree byte for byte (see
// internal/render, which explains what the substitution reproduces).
//
// The mailer Lambda does not link this package at all: hermes and its
// dependencies are a third of the binary and Load a large share of its cold
// start. Compile writes the loaded sets, pre-rendered, as a JSON bundle,
// and package templates/compiled renders from that with the same code
// (internal/render) and the same output. otpctl and otp-local keep using
// Load on the YAML.
//
// The file format and the placeholder syntax are described in
// docs/rendering.md.
package templates
