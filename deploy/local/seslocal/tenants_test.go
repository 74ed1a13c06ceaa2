package seslocal_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
)

// tenantClock is the tenant tests' clock, so timestamps compare exactly.
var tenantClock = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// sesARN is an ARN of the test account in the test client's region.
func sesARN(kind, name string) string {
	return "arn:aws:ses:eu-west-1:000000000000:" + kind + "/" + name
}

// tenantAccount is an account in the test client's region with two
// identities and two configuration sets.
func tenantAccount(tenants ...seslocal.Tenant) seslocal.Options {
	return seslocal.Options{
		Region:            "eu-west-1",
		Identities:        []seslocal.Identity{{Name: "acme.test"}, {Name: "defaults.test", ConfigurationSet: "otp"}},
		ConfigurationSets: []string{"otp", "other"},
		Tenants:           tenants,
		Now:               func() time.Time { return tenantClock },
	}
}

func TestCreateAndGetTenant(t *testing.T) {
	e := newSES(t, tenantAccount())
	out, err := e.client.CreateTenant(ctx(t), &sesv2.CreateTenantInput{TenantName: aws.String("acme"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("identity")}}})
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	id := aws.ToString(out.TenantId)
	if !strings.HasPrefix(id, "tn-") || len(id) < 10 {
		t.Errorf("TenantId = %q", id)
	}
	wantARN := sesARN("tenant", "acme/"+id)
	if aws.ToString(out.TenantName) != "acme" || aws.ToString(out.TenantArn) != wantARN || out.SendingStatus != types.SendingStatusEnabled ||
		!aws.ToTime(out.CreatedTimestamp).Equal(tenantClock) || len(out.Tags) != 1 || aws.ToString(out.Tags[0].Key) != "team" {
		t.Errorf("CreateTenant = %s %s %s %v %v, want acme %s ENABLED %v [team=identity]", aws.ToString(out.TenantName),
			aws.ToString(out.TenantArn), out.SendingStatus, aws.ToTime(out.CreatedTimestamp), out.Tags, wantARN, tenantClock)
	}

	got, err := e.client.GetTenant(ctx(t), &sesv2.GetTenantInput{TenantName: aws.String("acme")})
	if err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	tn := got.Tenant
	if tn == nil || aws.ToString(tn.TenantName) != "acme" || aws.ToString(tn.TenantId) != id || aws.ToString(tn.TenantArn) != wantARN ||
		tn.SendingStatus != types.SendingStatusEnabled || !aws.ToTime(tn.CreatedTimestamp).Equal(tenantClock) ||
		len(tn.Tags) != 1 || aws.ToString(tn.Tags[0].Value) != "identity" {
		t.Errorf("GetTenant = %+v", tn)
	}

	_, err = e.client.CreateTenant(ctx(t), &sesv2.CreateTenantInput{TenantName: aws.String("acme")})
	wantAPIError(t, err, 400, "AlreadyExistsException", "Tenant acme already exists.", new(*types.AlreadyExistsException))

	_, err = e.client.GetTenant(ctx(t), &sesv2.GetTenantInput{TenantName: aws.String("ghost")})
	wantAPIError(t, err, 404, "NotFoundException", "Tenant ghost does not exist.", new(*types.NotFoundException))

	if _, err := e.client.CreateTenant(ctx(t), &sesv2.CreateTenantInput{TenantName: aws.String(strings.Repeat("a", 64))}); err != nil {
		t.Errorf("CreateTenant with a 64-character name: %v", err)
	}
	for _, name := range []string{"", strings.Repeat("a", 65), "acme corp", "acme.test", "äcme", "acme/eu"} {
		_, err := e.client.CreateTenant(ctx(t), &sesv2.CreateTenantInput{TenantName: aws.String(name)})
		wantAPIError(t, err, 400, "BadRequestException",
			`Invalid TenantName "`+name+`": a tenant name is 1 to 64 letters, digits, '-' or '_'.`, new(*types.BadRequestException))
	}
	for name, tags := range map[string][]types.Tag{
		"an empty key":          {{Key: aws.String(""), Value: aws.String("x")}},
		"a duplicate key":       {{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("a"), Value: aws.String("2")}},
		"the reserved prefix":   {{Key: aws.String("aws:team"), Value: aws.String("x")}},
		"a forbidden character": {{Key: aws.String("team"), Value: aws.String("a;b")}},
	} {
		_, err := e.client.CreateTenant(ctx(t), &sesv2.CreateTenantInput{TenantName: aws.String("tagged"), Tags: tags})
		if !isAPIError(err, "BadRequestException") {
			t.Errorf("CreateTenant with %s: %v, want BadRequestException", name, err)
		}
	}

	if _, err := e.client.DeleteTenant(ctx(t), &sesv2.DeleteTenantInput{TenantName: aws.String("acme")}); err != nil {
		t.Fatalf("DeleteTenant: %v", err)
	}
	_, err = e.client.GetTenant(ctx(t), &sesv2.GetTenantInput{TenantName: aws.String("acme")})
	wantAPIError(t, err, 404, "NotFoundException", "Tenant acme does not exist.", new(*types.NotFoundException))
	_, err = e.client.DeleteTenant(ctx(t), &sesv2.DeleteTenantInput{TenantName: aws.String("acme")})
	wantAPIError(t, err, 404, "NotFoundException", "Tenant acme does not exist.", new(*types.NotFoundException))

	again, err := e.client.CreateTenant(ctx(t), &sesv2.CreateTenantInput{TenantName: aws.String("acme")})
	if err != nil {
		t.Fatalf("CreateTenant after DeleteTenant: %v", err)
	}
	if aws.ToString(again.TenantId) == id {
		t.Errorf("a tenant created again kept its old ID %s", id)
	}
}

func isAPIError(err error, code string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == code
}

func TestListTenants(t *testing.T) {
	e := newSES(t, tenantAccount(seslocal.Tenant{Name: "paused", SendingStatus: seslocal.TenantDisabled}))
	for _, name := range []string{"eu-shop", "acme", "us-shop", "bravo"} {
		if _, err := e.client.CreateTenant(ctx(t), &sesv2.CreateTenantInput{TenantName: aws.String(name)}); err != nil {
			t.Fatalf("CreateTenant %s: %v", name, err)
		}
	}
	tests := []struct {
		name     string
		filter   map[string]string
		pageSize int32
		want     [][]string // the pages
	}{
		{name: "one page in name order", want: [][]string{{"acme", "bravo", "eu-shop", "paused", "us-shop"}}},
		{name: "pages of two", pageSize: 2, want: [][]string{{"acme", "bravo"}, {"eu-shop", "paused"}, {"us-shop"}}},
		{name: "a page that ends exactly", pageSize: 5, want: [][]string{{"acme", "bravo", "eu-shop", "paused", "us-shop"}}},
		{name: "name contains", filter: map[string]string{"TENANT_NAME_CONTAINS": "shop"}, pageSize: 1, want: [][]string{{"eu-shop"}, {"us-shop"}}},
		{name: "sending status", filter: map[string]string{"SENDING_STATUS": "DISABLED"}, want: [][]string{{"paused"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &sesv2.ListTenantsInput{Filter: tc.filter}
			if tc.pageSize > 0 {
				in.PageSize = aws.Int32(tc.pageSize)
			}
			var got [][]string
			for p := sesv2.NewListTenantsPaginator(e.client, in); p.HasMorePages(); {
				out, err := p.NextPage(ctx(t))
				if err != nil {
					t.Fatalf("ListTenants: %v", err)
				}
				var names []string
				for _, tn := range out.Tenants {
					names = append(names, aws.ToString(tn.TenantName))
					if !strings.HasPrefix(aws.ToString(tn.TenantArn), sesARN("tenant", aws.ToString(tn.TenantName)+"/tn-")) ||
						!aws.ToTime(tn.CreatedTimestamp).Equal(tenantClock) {
						t.Errorf("tenant %+v", tn)
					}
				}
				got = append(got, names)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("pages = %v, want %v", got, tc.want)
			}
		})
	}
	for name, in := range map[string]*sesv2.ListTenantsInput{
		"PageSize 0":       {PageSize: aws.Int32(0)},
		"PageSize 1001":    {PageSize: aws.Int32(1001)},
		"a bad NextToken":  {NextToken: aws.String("not base64!")},
		"an unknown key":   {Filter: map[string]string{"TENANT_ID": "x"}},
		"an unknown state": {Filter: map[string]string{"SENDING_STATUS": "PAUSED"}},
	} {
		if _, err := e.client.ListTenants(ctx(t), in); !isAPIError(err, "BadRequestException") {
			t.Errorf("ListTenants with %s: %v, want BadRequestException", name, err)
		}
	}
}

func TestTenantResourceAssociations(t *testing.T) {
	e := newSES(t, tenantAccount(seslocal.Tenant{Name: "acme"}, seslocal.Tenant{Name: "bravo", Resources: []string{sesARN("identity", "acme.test")}}))
	assoc := func(tenant, arn string) error {
		_, err := e.client.CreateTenantResourceAssociation(ctx(t), &sesv2.CreateTenantResourceAssociationInput{
			TenantName: aws.String(tenant), ResourceArn: aws.String(arn)})
		return err
	}
	tests := []struct {
		name, tenant, arn string
		status            int
		code, msg         string
		typed             any
	}{
		{name: "a domain identity", tenant: "acme", arn: sesARN("identity", "acme.test")},
		{name: "an identity named in another case", tenant: "acme", arn: sesARN("identity", "Defaults.TEST")},
		{name: "a configuration set", tenant: "acme", arn: sesARN("configuration-set", "otp")},
		{name: "the same resource again", tenant: "acme", arn: sesARN("identity", "acme.test"), status: 400, code: "AlreadyExistsException",
			msg: "Resource " + sesARN("identity", "acme.test") + " is already associated with tenant acme.", typed: new(*types.AlreadyExistsException)},
		{name: "an identity the account does not have", tenant: "acme", arn: sesARN("identity", "other.test"), status: 404, code: "NotFoundException",
			msg: "Identity other.test does not exist.", typed: new(*types.NotFoundException)},
		{name: "a configuration set the account does not have", tenant: "acme", arn: sesARN("configuration-set", "gone"), status: 404,
			code: "NotFoundException", msg: "Configuration set <gone> does not exist.", typed: new(*types.NotFoundException)},
		{name: "a template (seslocal has none)", tenant: "acme", arn: sesARN("template", "otp-code"), status: 404, code: "NotFoundException",
			msg: "Template otp-code does not exist.", typed: new(*types.NotFoundException)},
		{name: "an identity of another account", tenant: "acme", arn: "arn:aws:ses:eu-west-1:123456789012:identity/acme.test", status: 404,
			code: "NotFoundException", msg: "Resource arn:aws:ses:eu-west-1:123456789012:identity/acme.test does not exist: seslocal is account 000000000000 in region eu-west-1.",
			typed: new(*types.NotFoundException)},
		{name: "an identity in another region", tenant: "acme", arn: "arn:aws:ses:us-east-1:000000000000:identity/acme.test", status: 404,
			code: "NotFoundException", msg: "Resource arn:aws:ses:us-east-1:000000000000:identity/acme.test does not exist: seslocal is account 000000000000 in region eu-west-1.",
			typed: new(*types.NotFoundException)},
		{name: "not an SES resource ARN", tenant: "acme", arn: "arn:aws:sns:eu-west-1:000000000000:otp-events", status: 400, code: "BadRequestException",
			msg: "Invalid ResourceArn arn:aws:sns:eu-west-1:000000000000:otp-events: a tenant resource is an SES identity, configuration set or template ARN " +
				"(arn:aws:ses:REGION:ACCOUNT:identity/NAME, ...:configuration-set/NAME, ...:template/NAME).", typed: new(*types.BadRequestException)},
		{name: "a tenant that does not exist", tenant: "ghost", arn: sesARN("identity", "acme.test"), status: 404, code: "NotFoundException",
			msg: "Tenant ghost does not exist.", typed: new(*types.NotFoundException)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := assoc(tc.tenant, tc.arn)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("CreateTenantResourceAssociation: %v", err)
				}
				return
			}
			wantAPIError(t, err, tc.status, tc.code, tc.msg, tc.typed)
		})
	}

	listResources := func(tenant string, filter map[string]string, size int32) []string {
		t.Helper()
		var got []string
		in := &sesv2.ListTenantResourcesInput{TenantName: aws.String(tenant), Filter: filter, PageSize: aws.Int32(size)}
		for p := sesv2.NewListTenantResourcesPaginator(e.client, in); p.HasMorePages(); {
			out, err := p.NextPage(ctx(t))
			if err != nil {
				t.Fatalf("ListTenantResources: %v", err)
			}
			if len(out.TenantResources) > int(size) {
				t.Errorf("a page of %d holds %d resources", size, len(out.TenantResources))
			}
			for _, r := range out.TenantResources {
				got = append(got, string(r.ResourceType)+" "+aws.ToString(r.ResourceArn))
			}
		}
		return got
	}
	all := []string{
		"CONFIGURATION_SET " + sesARN("configuration-set", "otp"),
		"EMAIL_IDENTITY " + sesARN("identity", "acme.test"),
		"EMAIL_IDENTITY " + sesARN("identity", "defaults.test"),
	}
	if got := listResources("acme", nil, 2); !reflect.DeepEqual(got, all) {
		t.Errorf("ListTenantResources = %q\nwant %q", got, all)
	}
	if got := listResources("acme", map[string]string{"RESOURCE_TYPE": "EMAIL_IDENTITY"}, 1); !reflect.DeepEqual(got, all[1:]) {
		t.Errorf("ListTenantResources EMAIL_IDENTITY = %q\nwant %q", got, all[1:])
	}
	if got := listResources("acme", map[string]string{"RESOURCE_TYPE": "EMAIL_TEMPLATE"}, 10); got != nil {
		t.Errorf("ListTenantResources EMAIL_TEMPLATE = %q, want none", got)
	}
	_, err := e.client.ListTenantResources(ctx(t), &sesv2.ListTenantResourcesInput{TenantName: aws.String("acme"), Filter: map[string]string{"RESOURCE_TYPE": "TOPIC"}})
	if !isAPIError(err, "BadRequestException") {
		t.Errorf("ListTenantResources with an unknown type: %v, want BadRequestException", err)
	}
	_, err = e.client.ListTenantResources(ctx(t), &sesv2.ListTenantResourcesInput{TenantName: aws.String("ghost")})
	wantAPIError(t, err, 404, "NotFoundException", "Tenant ghost does not exist.", new(*types.NotFoundException))

	resourceTenants := func(arn string) []string {
		t.Helper()
		var got []string
		in := &sesv2.ListResourceTenantsInput{ResourceArn: aws.String(arn), PageSize: aws.Int32(1)}
		for p := sesv2.NewListResourceTenantsPaginator(e.client, in); p.HasMorePages(); {
			out, err := p.NextPage(ctx(t))
			if err != nil {
				t.Fatalf("ListResourceTenants: %v", err)
			}
			for _, r := range out.ResourceTenants {
				if aws.ToString(r.ResourceArn) != sesARN("identity", "acme.test") || !strings.HasPrefix(aws.ToString(r.TenantId), "tn-") ||
					!aws.ToTime(r.AssociatedTimestamp).Equal(tenantClock) {
					t.Errorf("resource tenant %+v", r)
				}
				got = append(got, aws.ToString(r.TenantName))
			}
		}
		return got
	}
	if got := resourceTenants(sesARN("identity", "ACME.test")); !reflect.DeepEqual(got, []string{"acme", "bravo"}) {
		t.Errorf("ListResourceTenants = %q, want [acme bravo]", got)
	}
	_, err = e.client.ListResourceTenants(ctx(t), &sesv2.ListResourceTenantsInput{ResourceArn: aws.String(sesARN("identity", "other.test"))})
	wantAPIError(t, err, 404, "NotFoundException", "Identity other.test does not exist.", new(*types.NotFoundException))

	del := func(tenant, arn string) error {
		_, err := e.client.DeleteTenantResourceAssociation(ctx(t), &sesv2.DeleteTenantResourceAssociationInput{
			TenantName: aws.String(tenant), ResourceArn: aws.String(arn)})
		return err
	}
	if err := del("acme", sesARN("identity", "acme.test")); err != nil {
		t.Fatalf("DeleteTenantResourceAssociation: %v", err)
	}
	err = del("acme", sesARN("identity", "acme.test"))
	wantAPIError(t, err, 404, "NotFoundException", "Resource "+sesARN("identity", "acme.test")+" is not associated with tenant acme.", new(*types.NotFoundException))
	err = del("ghost", sesARN("identity", "acme.test"))
	wantAPIError(t, err, 404, "NotFoundException", "Tenant ghost does not exist.", new(*types.NotFoundException))
	if got := resourceTenants(sesARN("identity", "acme.test")); !reflect.DeepEqual(got, []string{"bravo"}) {
		t.Errorf("ListResourceTenants after the association's deletion = %q, want [bravo]", got)
	}
	if _, err := e.client.DeleteTenant(ctx(t), &sesv2.DeleteTenantInput{TenantName: aws.String("bravo")}); err != nil {
		t.Fatalf("DeleteTenant: %v", err)
	}
	if got := resourceTenants(sesARN("identity", "acme.test")); got != nil {
		t.Errorf("ListResourceTenants after the tenant's deletion = %q, want none", got)
	}
	// A tenant created again under the name starts without resources.
	if _, err := e.client.CreateTenant(ctx(t), &sesv2.CreateTenantInput{TenantName: aws.String("bravo")}); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	if got := listResources("bravo", nil, 10); got != nil {
		t.Errorf("a re-created tenant's resources = %q, want none", got)
	}
	infos := e.srv.Tenants()
	if len(infos) != 2 || infos[0].Name != "acme" || len(infos[0].Resources) != 2 || infos[1].Name != "bravo" {
		t.Errorf("Server.Tenants() = %+v", infos)
	}
}

func TestSendThroughTenant(t *testing.T) {
	acme, defaults := sesARN("identity", "acme.test"), sesARN("identity", "defaults.test")
	otp, other := sesARN("configuration-set", "otp"), sesARN("configuration-set", "other")
	opts := tenantAccount(
		seslocal.Tenant{Name: "acme", Resources: []string{acme, otp}},
		seslocal.Tenant{Name: "no-identity", Resources: []string{otp, other}},
		seslocal.Tenant{Name: "no-set", Resources: []string{acme}},
		seslocal.Tenant{Name: "defaults-ok", Resources: []string{defaults, otp}},
		seslocal.Tenant{Name: "defaults-only", Resources: []string{defaults, other}},
		seslocal.Tenant{Name: "paused", Resources: []string{acme, otp}, SendingStatus: seslocal.TenantDisabled},
		seslocal.Tenant{Name: "reinstated", Resources: []string{acme, otp}, SendingStatus: seslocal.TenantReinstated},
	)
	opts.Identities = append(opts.Identities, seslocal.Identity{Name: "otp@acme.test"})
	tests := []struct {
		name     string
		from     string // "" the simple() sender, no-reply@acme.test
		tenant   *string
		set      string
		wantSet  string // the accepted email's configuration set
		fromARN  string // FromEmailAddressIdentityArn
		feedback string // FeedbackForwardingEmailAddress

		status    int
		code, msg string
		typed     any
	}{
		{name: "no TenantName: tenants play no part", set: "otp", wantSet: "otp"},
		{name: "identity and set associated", tenant: aws.String("acme"), set: "otp", wantSet: "otp"},
		{name: "identity associated and no set", tenant: aws.String("no-set")},
		{name: "a reinstated tenant sends", tenant: aws.String("reinstated"), set: "otp", wantSet: "otp"},
		{name: "the identity's default set, associated", from: "otp@defaults.test", tenant: aws.String("defaults-ok"), wantSet: "otp"},
		{name: "a tenant that does not exist", tenant: aws.String("ghost"), set: "otp",
			status: 404, code: "NotFoundException", msg: "Tenant ghost does not exist.", typed: new(*types.NotFoundException)},
		{name: "a tenant name SES would never accept", tenant: aws.String("acme corp"), status: 400, code: "BadRequestException",
			msg: `Invalid TenantName "acme corp": a tenant name is 1 to 64 letters, digits, '-' or '_'.`, typed: new(*types.BadRequestException)},
		{name: "a disabled tenant", tenant: aws.String("paused"), set: "otp",
			status: 400, code: "SendingPausedException", msg: "Sending is paused for tenant paused.", typed: new(*types.SendingPausedException)},
		{name: "the sender's identity not associated", tenant: aws.String("no-identity"), set: "otp", status: 400, code: "BadRequestException",
			msg: "Identity " + acme + " is not associated with tenant no-identity.", typed: new(*types.BadRequestException)},
		{name: "the most specific identity is the one SES uses", from: "otp@acme.test", tenant: aws.String("acme"), set: "otp", status: 400,
			code: "BadRequestException", msg: "Identity " + sesARN("identity", "otp@acme.test") + " is not associated with tenant acme.",
			typed: new(*types.BadRequestException)},
		{name: "the named set not associated", tenant: aws.String("no-set"), set: "otp", status: 400, code: "BadRequestException",
			msg: "Configuration set " + otp + " is not associated with tenant no-set.", typed: new(*types.BadRequestException)},
		{name: "the identity's default set not associated", from: "otp@defaults.test", tenant: aws.String("defaults-only"), status: 400,
			code: "BadRequestException", msg: "Configuration set " + otp + " (the default configuration set of identity defaults.test) is not associated with tenant defaults-only.",
			typed: new(*types.BadRequestException)},
		{name: "an identity ARN picks the identity SES uses", from: "otp@acme.test", fromARN: acme, tenant: aws.String("acme"), set: "otp", wantSet: "otp"},
		{name: "the feedback forwarding address's identity not associated", feedback: "bounces@defaults.test", tenant: aws.String("no-set"),
			status: 400, code: "BadRequestException", msg: "Identity " + defaults + " is not associated with tenant no-set.", typed: new(*types.BadRequestException)},
		{name: "a named set overrides the unassociated default", from: "otp@defaults.test", tenant: aws.String("defaults-only"), set: "other", wantSet: "other"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSES(t, opts)
			in := simple("rita@example.com", "x")
			if tc.from != "" {
				in.FromEmailAddress = aws.String(tc.from)
			}
			in.TenantName = tc.tenant
			if tc.fromARN != "" {
				in.FromEmailAddressIdentityArn = aws.String(tc.fromARN)
			}
			if tc.feedback != "" {
				in.FeedbackForwardingEmailAddress = aws.String(tc.feedback)
			}
			if tc.set != "" {
				in.ConfigurationSetName = aws.String(tc.set)
			}
			out, err := e.client.SendEmail(ctx(t), in)
			if tc.code != "" {
				wantAPIError(t, err, tc.status, tc.code, tc.msg, tc.typed)
				if !strings.Contains(tc.msg, "enant") {
					t.Errorf("the refusal %q does not name the tenant", tc.msg)
				}
				if n := e.srv.Outbox().Count(); n != 0 {
					t.Errorf("outbox holds %d emails after a refused send", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("SendEmail: %v", err)
			}
			got, ok := e.srv.Outbox().Get(aws.ToString(out.MessageId))
			if !ok {
				t.Fatal("the accepted email is not in the outbox")
			}
			if got.SESTenant != aws.ToString(tc.tenant) || got.Tenant != "acme" || got.ConfigurationSet != tc.wantSet {
				t.Errorf("outbox email SESTenant %q, Tenant %q, ConfigurationSet %q; want %q, acme, %q",
					got.SESTenant, got.Tenant, got.ConfigurationSet, aws.ToString(tc.tenant), tc.wantSet)
			}
		})
	}

	t.Run("an association made at runtime lets the send through", func(t *testing.T) {
		e := newSES(t, opts)
		in := simple("rita@example.com", "x")
		in.TenantName, in.ConfigurationSetName = aws.String("no-identity"), aws.String("otp")
		if _, err := e.client.SendEmail(ctx(t), in); !isAPIError(err, "BadRequestException") {
			t.Fatalf("SendEmail before the association: %v", err)
		}
		if _, err := e.client.CreateTenantResourceAssociation(ctx(t), &sesv2.CreateTenantResourceAssociationInput{
			TenantName: aws.String("no-identity"), ResourceArn: aws.String(acme)}); err != nil {
			t.Fatal(err)
		}
		e.send(in)
		if _, err := e.client.DeleteTenant(ctx(t), &sesv2.DeleteTenantInput{TenantName: aws.String("no-identity")}); err != nil {
			t.Fatal(err)
		}
		_, err := e.client.SendEmail(ctx(t), in)
		wantAPIError(t, err, 404, "NotFoundException", "Tenant no-identity does not exist.", new(*types.NotFoundException))
	})

	t.Run("an account the Options do not describe still needs the tenant", func(t *testing.T) {
		e := newSES(t, seslocal.Options{Tenants: []seslocal.Tenant{{Name: "acme"}, {Name: "paused", SendingStatus: seslocal.TenantDisabled}}})
		in := simple("rita@example.com", "x")
		in.TenantName = aws.String("acme")
		id := e.send(in)
		if got, _ := e.srv.Outbox().Get(id); got.SESTenant != "acme" {
			t.Errorf("SESTenant = %q, want acme", got.SESTenant)
		}
		if status, _, body := get(t, e.url+"/outbox/"+id); status != 200 || !strings.Contains(body, "<dt>SES tenant</dt><dd>acme</dd>") {
			t.Errorf("the email's page (status %d) does not show the SES tenant:\n%s", status, body)
		}
		in.TenantName = aws.String("ghost")
		_, err := e.client.SendEmail(ctx(t), in)
		wantAPIError(t, err, 404, "NotFoundException", "Tenant ghost does not exist.", new(*types.NotFoundException))
		in.TenantName = aws.String("paused")
		_, err = e.client.SendEmail(ctx(t), in)
		wantAPIError(t, err, 400, "SendingPausedException", "Sending is paused for tenant paused.", new(*types.SendingPausedException))
	})
}

func TestNewValidatesTenants(t *testing.T) {
	bad := map[string][]seslocal.Tenant{
		"a bad name":                   {{Name: "acme corp"}},
		"an empty name":                {{Name: ""}},
		"a tenant twice":               {{Name: "acme"}, {Name: "acme"}},
		"an unknown status":            {{Name: "acme", SendingStatus: "PAUSED"}},
		"an unknown identity":          {{Name: "acme", Resources: []string{sesARN("identity", "other.test")}}},
		"an unknown configuration set": {{Name: "acme", Resources: []string{sesARN("configuration-set", "gone")}}},
		"a template":                   {{Name: "acme", Resources: []string{sesARN("template", "otp-code")}}},
		"another region's identity":    {{Name: "acme", Resources: []string{"arn:aws:ses:us-east-1:000000000000:identity/acme.test"}}},
		"not an ARN":                   {{Name: "acme", Resources: []string{"acme.test"}}},
		"a resource twice":             {{Name: "acme", Resources: []string{sesARN("identity", "acme.test"), sesARN("identity", "ACME.test")}}},
	}
	for name, tenants := range bad {
		if _, err := seslocal.New(tenantAccount(tenants...)); err == nil || !strings.HasPrefix(err.Error(), "seslocal: ") {
			t.Errorf("New with %s = %v, want a seslocal error", name, err)
		}
	}
	// The default region is us-east-1, and seeded IDs are stable across
	// restarts.
	opts := seslocal.Options{VerifiedIdentities: []string{"acme.test"},
		Tenants: []seslocal.Tenant{{Name: "acme", Resources: []string{"arn:aws:ses:us-east-1:000000000000:identity/acme.test"}}}}
	var ids []string
	for range 2 {
		srv, err := seslocal.New(opts)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		ti := srv.Tenants()
		if len(ti) != 1 || !strings.HasPrefix(ti[0].ARN, "arn:aws:ses:us-east-1:000000000000:tenant/acme/tn-") || ti[0].SendingStatus != seslocal.TenantEnabled {
			t.Fatalf("Tenants() = %+v", ti)
		}
		ids = append(ids, ti[0].ID)
	}
	if ids[0] != ids[1] {
		t.Errorf("a seeded tenant's ID changed across restarts: %v", ids)
	}
}
