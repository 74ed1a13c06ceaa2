package templates

import (
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
)

var sampleLoginTime = time.Date(2026, 3, 14, 15, 9, 0, 0, time.UTC)

// sampleMessage is a valid message of a kind, every optional part there.
func sampleMessage(kind contract.Kind) Message {
	m := Message{Kind: kind, Name: "Zoë O'Brien", TTL: 10 * time.Minute}
	switch kind {
	case contract.KindInvitation:
		m.Username, m.TemporaryPassword, m.TTL = "zoe.obrien", `Tmp-9xQ!<w"v2&#'+`, 7*24*time.Hour
	case contract.KindAccountTakeover:
		m.Takeover = &contract.Takeover{EventID: "ev1", Action: "BLOCK", LoginTime: sampleLoginTime,
			IPAddress: "203.0.113.7", City: "Lyon", Country: "France", Device: "Firefox on Windows <10>",
			ThisWasMe: "https://example.com/feedback?t=ok&v=1", ThisWasNotMe: "https://example.com/feedback?t=no+1&v=0"}
	default:
		m.Code = "123456"
	}
	return m
}
