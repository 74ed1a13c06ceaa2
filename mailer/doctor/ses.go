package doctor

import (
	"context"
	"fmt"
	"net/mail"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/cognito-email-otp/cognito-email-otp/templates"
)

// account checks production access, sending and the quota (GetAccount).
func (d *doctor) account(ctx context.Context, r *Report) []Result {
	out, err := d.SES.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		return []Result{{Check: CheckProductionAccess, State: Fail, Detail: describe("SES GetAccount", err), Fix: permissionFix("ses:GetAccount")}}
	}
	var rows []Result
	if out.ProductionAccessEnabled {
		rows = append(rows, Result{Check: CheckProductionAccess, State: OK, Detail: "the SES account is out of the sandbox in " + d.Region})
	} else {
		rows = append(rows, Result{Check: CheckProductionAccess, State: Fail,
			Detail: "the SES account is in the sandbox in " + d.Region + ": it sends only to verified addresses, at most 200 a day and 1 a second, so real users get no code",
			Fix:    "request production access for " + d.Region + " (SES console, Account dashboard, \"Request production access\"; or aws sesv2 put-account-details --production-access-enabled --mail-type TRANSACTIONAL --website-url URL --use-case-description TEXT)"})
	}
	enforcement := aws.ToString(out.EnforcementStatus)
	switch {
	case !out.SendingEnabled:
		rows = append(rows, Result{Check: CheckSending, State: Fail,
			Detail: fmt.Sprintf("sending is paused for the SES account in %s (enforcement status %s): every code is dead-lettered as sending_paused", d.Region, orDash(enforcement)),
			Fix:    "find the cause on the SES reputation dashboard, then resume sending (aws sesv2 put-account-sending-attributes --sending-enabled)"})
	case enforcement == "SHUTDOWN":
		rows = append(rows, Result{Check: CheckSending, State: Fail, Detail: "SES has shut the account's sending down (enforcement status SHUTDOWN)",
			Fix: "contact AWS Support about the SES account's reputation"})
	case enforcement == "PROBATION":
		rows = append(rows, Result{Check: CheckSending, State: Warn, Detail: "the SES account is on probation (bounce or complaint rate): SES may pause its sending",
			Fix: "bring bounces and complaints down (SES reputation dashboard) before the review date"})
	default:
		rows = append(rows, Result{Check: CheckSending, State: OK, Detail: "sending is enabled (enforcement status " + orDash(enforcement) + ")"})
	}
	if q := out.SendQuota; q != nil {
		r.Quota = &Quota{Max24HourSend: q.Max24HourSend, SentLast24Hours: q.SentLast24Hours, MaxSendRate: q.MaxSendRate}
		rows = append(rows, quotaRow(*r.Quota))
	} else {
		rows = append(rows, Result{Check: CheckQuota, State: Warn, Detail: "GetAccount reported no sending quota", Fix: "look at the quota in the SES console"})
	}
	return rows
}

// quotaWarnAt is the share of the daily quota past which the next burst of
// sign-ins may use up the rest.
const quotaWarnAt = 0.8

func quotaRow(q Quota) Result {
	limit := func(v float64, unit string) string {
		if v < 0 {
			return "unlimited"
		}
		return fmt.Sprintf("%g%s", v, unit)
	}
	detail := fmt.Sprintf("sent %g of %s in the last 24 hours; sending rate %s", q.SentLast24Hours, limit(q.Max24HourSend, ""), limit(q.MaxSendRate, " a second"))
	res := Result{Check: CheckQuota, State: OK, Detail: detail}
	if q.Max24HourSend >= 0 {
		switch used := q.SentLast24Hours / max(q.Max24HourSend, 1); {
		case used >= 1:
			res.State, res.Fix = Fail, "the daily quota is used up: codes are dead-lettered as quota_exceeded until it rolls over; request a higher sending quota (Service Quotas, Amazon SES)"
		case used >= quotaWarnAt:
			res.State, res.Fix = Warn, fmt.Sprintf("%.0f%% of the daily quota is used; request a higher sending quota before it runs out", used*100)
		}
	}
	return res
}

// identity is what GetEmailIdentity said of one name.
type identity struct {
	name       string
	found      bool
	verified   bool
	status     string // VerificationStatus
	domain     bool
	dkimOn     bool
	dkimStatus string
	err        error
}

func (d *doctor) identity(ctx context.Context, name string) identity {
	if id, ok := d.identities[name]; ok {
		return id
	}
	id := identity{name: name}
	out, err := d.SES.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(name)})
	switch {
	case is[*sestypes.NotFoundException](err):
	case err != nil:
		id.err = err
	default:
		id.found = true
		id.status = string(out.VerificationStatus)
		// VerificationStatus is newer than VerifiedForSendingStatus; where
		// both are given, both must say verified.
		id.verified = out.VerifiedForSendingStatus && (id.status == "" || out.VerificationStatus == sestypes.VerificationStatusSuccess)
		id.domain = out.IdentityType != sestypes.IdentityTypeEmailAddress
		if k := out.DkimAttributes; k != nil {
			id.dkimOn, id.dkimStatus = k.SigningEnabled, string(k.Status)
		}
	}
	d.identities[name] = id
	return id
}

// candidates are the identities that can vouch for addr, most specific
// first: the address, its domain, then each parent domain with a dot in it
// (SES lets a verified domain cover its subdomains' addresses).
func candidates(addr string) []string {
	addr = strings.ToLower(addr)
	out := []string{addr}
	_, domain, _ := strings.Cut(addr, "@")
	for strings.Contains(domain, ".") {
		out = append(out, domain)
		_, domain, _ = strings.Cut(domain, ".")
	}
	return out
}

// setSender is a template set, the address it sends from ("" means the
// mailer's OTP_FROM_ADDRESS) and the SES tenant it sends through ("" for
// none).
type setSender struct{ set, address, tenant string }

// senders checks, for every set the mailer would load, that a verified
// identity covers its sender, that the covering domain signs with DKIM,
// and that the SES tenant it names holds that identity and configSet.
func (d *doctor) senders(ctx context.Context, fallback, configSet string) []Result {
	lib := d.Library
	if lib == nil {
		var err error
		if lib, err = templates.Load(d.Templates...); err != nil {
			return []Result{{Check: CheckTemplates, State: Fail, Detail: err.Error(),
				Fix: "fix the template sets (otpctl templates check names each problem); the mailer fails to start on them"}}
		}
	}
	var list []setSender
	for _, set := range lib.Sets() {
		addr, _ := lib.Sender(set)
		list = append(list, setSender{set, addr, lib.SESTenant(set)})
	}
	var rows []Result
	for _, s := range list {
		rows = append(rows, d.sender(ctx, s, fallback)...)
		if s.tenant != "" {
			rows = append(rows, d.tenantRows(ctx, s.set, s.tenant, d.vouching(ctx, s.address, fallback), configSet)...)
		}
	}
	return rows
}

// vouching is the most specific verified identity that covers the
// sender (addr, or the fallback when the set names none), the one SES
// checks; "" when none does. The sender row has asked SES already.
func (d *doctor) vouching(ctx context.Context, addr, fallback string) string {
	if addr == "" {
		a, err := mail.ParseAddress(fallback)
		if err != nil {
			return ""
		}
		addr = a.Address
	}
	for _, name := range candidates(addr) {
		if id := d.identity(ctx, name); id.verified {
			return id.name
		}
	}
	return ""
}

func (d *doctor) sender(ctx context.Context, s setSender, fallback string) []Result {
	where := "from_address in the set's theme.yaml"
	addr := s.address
	if addr == "" {
		where = "OTP_FROM_ADDRESS (the set names no from_address)"
		if fallback == "" {
			return []Result{{Check: CheckSender, Subject: s.set, State: Fail,
				Detail: fmt.Sprintf("set %s names no from_address, so the mailer sends from its OTP_FROM_ADDRESS, which was not given", s.set),
				Fix:    "give --from (the mailer's OTP_FROM_ADDRESS, env OTP_FROM_ADDRESS), or --function to read it from the mailer"}}
		}
		a, err := mail.ParseAddress(fallback)
		if err != nil {
			return []Result{{Check: CheckSender, Subject: s.set, State: Fail,
				Detail: fmt.Sprintf("OTP_FROM_ADDRESS %q is not an email address: %v", fallback, err),
				Fix:    "set OTP_FROM_ADDRESS to an address, optionally with a name: Example <no-reply@example.com>"}}
		}
		addr = a.Address
	}
	var covering, pending []identity
	for _, name := range candidates(addr) {
		id := d.identity(ctx, name)
		if id.err != nil {
			return []Result{{Check: CheckSender, Subject: s.set, Address: addr, State: Fail,
				Detail: describe("SES GetEmailIdentity "+name, id.err), Fix: permissionFix("ses:GetEmailIdentity")}}
		}
		switch {
		case id.verified:
			covering = append(covering, id)
		case id.found:
			pending = append(pending, id)
		}
	}
	if len(covering) == 0 {
		detail := fmt.Sprintf("set %s sends from %s, which no verified SES identity in %s covers", s.set, addr, d.Region)
		for _, id := range pending {
			detail += fmt.Sprintf("; %s is %s", id.name, orDash(strings.ToLower(id.status)))
		}
		_, domain, _ := strings.Cut(addr, "@")
		return []Result{
			{Check: CheckSender, Subject: s.set, Address: addr, State: Fail, Detail: detail + ": every code of this tenant is dead-lettered as sender_not_verified",
				Fix: fmt.Sprintf("verify the domain %s (with Easy DKIM) in SES in %s, or change %s to an address under a verified domain", domain, d.Region, where)},
			{Check: CheckDKIM, Subject: s.set, Address: addr, State: Skip, Detail: "the sender is not verified"},
		}
	}
	by := "the address identity " + covering[0].name
	if covering[0].domain {
		by = "the domain identity " + covering[0].name
	}
	rows := []Result{{Check: CheckSender, Subject: s.set, Address: addr, State: OK, Detail: fmt.Sprintf("%s is verified by %s", addr, by)}}
	return append(rows, dkimRow(s.set, addr, covering))
}

// dkimRow checks the DKIM of the most specific verified domain that covers
// the sender. A failure rather than a warning: Gmail and Yahoo require
// senders to authenticate, and a code in the spam folder is a failed
// sign-in.
func dkimRow(set, addr string, covering []identity) Result {
	res := Result{Check: CheckDKIM, Subject: set, Address: addr}
	var domain *identity
	for i := range covering {
		if covering[i].domain {
			domain = &covering[i]
			break
		}
	}
	_, addrDomain, _ := strings.Cut(addr, "@")
	why := "mailbox providers send unsigned mail to spam or refuse it, and a code in spam is a failed sign-in"
	switch {
	case domain == nil:
		res.State = Fail
		res.Detail = fmt.Sprintf("only the address %s is verified, so SES signs as amazonses.com, not %s: DMARC alignment fails", addr, addrDomain)
		res.Fix = fmt.Sprintf("verify the domain %s with Easy DKIM and publish its three CNAME records; %s", addrDomain, why)
	case !domain.dkimOn:
		res.State = Fail
		res.Detail = fmt.Sprintf("DKIM signing is off for %s", domain.name)
		res.Fix = fmt.Sprintf("turn DKIM signing on for %s (aws sesv2 put-email-identity-dkim-attributes --signing-enabled); %s", domain.name, why)
	case domain.dkimStatus != string(sestypes.DkimStatusSuccess):
		res.State = Fail
		res.Detail = fmt.Sprintf("DKIM for %s is %s, not SUCCESS", domain.name, orDash(strings.ToLower(domain.dkimStatus)))
		res.Fix = fmt.Sprintf("publish the three DKIM CNAME records of %s in its DNS and wait for SES to find them; %s", domain.name, why)
	default:
		res.State = OK
		res.Detail = fmt.Sprintf("%s signs with DKIM (SUCCESS)", domain.name)
	}
	return res
}

// configurationSet checks that the mailer's configuration set exists and
// sends (GetConfigurationSet).
func (d *doctor) configurationSet(ctx context.Context, name string) Result {
	res := Result{Check: CheckConfigurationSet, Subject: name}
	if name == "" {
		res.State, res.Detail = Skip, "the mailer names no configuration set (OTP_SES_CONFIGURATION_SET)"
		return res
	}
	out, err := d.SES.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String(name)})
	switch {
	case is[*sestypes.NotFoundException](err):
		res.State = Fail
		res.Detail = fmt.Sprintf("configuration set %s does not exist in %s: SES refuses every send that names it (dead-lettered as ses_bad_request)", name, d.Region)
		res.Fix = "create it (aws sesv2 create-configuration-set), or fix OTP_SES_CONFIGURATION_SET (the SAM parameter SESConfigurationSet)"
	case err != nil:
		res.State, res.Detail, res.Fix = Fail, describe("SES GetConfigurationSet", err), permissionFix("ses:GetConfigurationSet")
	case out.SendingOptions != nil && !out.SendingOptions.SendingEnabled:
		res.State = Fail
		res.Detail = fmt.Sprintf("sending is paused for configuration set %s: every code is dead-lettered as sending_paused", name)
		res.Fix = fmt.Sprintf("resume it (aws sesv2 put-configuration-set-sending-options --configuration-set-name %s --sending-enabled)", name)
	default:
		res.State, res.Detail = OK, fmt.Sprintf("configuration set %s exists and sends", name)
	}
	return res
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
