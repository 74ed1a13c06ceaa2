package templates

import (
	"context"

	"github.com/cognito-email-otp/cognito-email-otp/mailer"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
)

// ForMailer adapts a Library to the mailer's Renderer, so that the mailer
// package itself (which the triggers import for the send-request contract)
// never links hermes.
func ForMailer(l *Library) mailer.Renderer { return mailerRenderer{l} }

type mailerRenderer struct{ lib *Library }

func (m mailerRenderer) Render(_ context.Context, r contract.SendRequest) (mailer.Email, error) {
	e, err := m.lib.Render(MessageOf(r))
	if err != nil {
		return mailer.Email{}, err
	}
	return e.ForMailer(), nil
}

// MessageOf is the message a send request asks for.
func MessageOf(r contract.SendRequest) Message {
	return Message{
		Tenant:            r.Tenant,
		Locale:            r.Locale,
		Kind:              r.Kind,
		Name:              r.Name,
		Email:             r.To,
		Code:              r.Code.Reveal(),
		Username:          r.Username,
		TemporaryPassword: r.TemporaryPassword.Reveal(),
		Takeover:          r.Takeover,
		TTL:               r.ExpiresAt.Sub(r.IssuedAt),
	}
}

// ForMailer is the email as the mailer takes it.
func (e Email) ForMailer() mailer.Email {
	return mailer.Email{
		Subject: e.Subject, HTML: e.HTML, Text: e.Text,
		FromAddress: e.FromAddress, FromName: e.FromName, SESTenant: e.SESTenant,
		Set: e.Set, Locale: e.Locale, Kind: e.Kind,
		SetFallback: e.SetFallback, LocaleFallback: e.LocaleFallback, KindFallback: e.KindFallback,
	}
}
