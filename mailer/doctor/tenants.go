package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// tenant is what SES said of one tenant: GetTenant, then every page of
// ListTenantResources.
type tenant struct {
	found     bool
	status    sestypes.SendingStatus
	arnPrefix string          // "arn:PARTITION:ses:REGION:ACCOUNT:", from the tenant's ARN
	resources map[string]bool // associated ARNs
	err       error
	call      string // the call that failed
}

func (d *doctor) tenant(ctx context.Context, name string) tenant {
	if t, ok := d.tenantCache[name]; ok {
		return t
	}
	t := d.readTenant(ctx, name)
	d.tenantCache[name] = t
	return t
}

func (d *doctor) readTenant(ctx context.Context, name string) tenant {
	out, err := d.SES.GetTenant(ctx, &sesv2.GetTenantInput{TenantName: aws.String(name)})
	switch {
	case is[*sestypes.NotFoundException](err):
		return tenant{}
	case err != nil:
		return tenant{err: err, call: "GetTenant"}
	}
	t := tenant{found: true, resources: map[string]bool{}}
	if out.Tenant != nil {
		t.status = out.Tenant.SendingStatus
		if arn := aws.ToString(out.Tenant.TenantArn); strings.Contains(arn, ":tenant/") {
			t.arnPrefix = arn[:strings.Index(arn, ":tenant/")+1]
		}
	}
	in := &sesv2.ListTenantResourcesInput{TenantName: aws.String(name)}
	for {
		page, err := d.SES.ListTenantResources(ctx, in)
		if err != nil {
			return tenant{found: true, err: err, call: "ListTenantResources"}
		}
		for _, r := range page.TenantResources {
			t.resources[aws.ToString(r.ResourceArn)] = true
		}
		if aws.ToString(page.NextToken) == "" {
			return t
		}
		in.NextToken = page.NextToken
	}
}

// associated reports whether the tenant holds the resource of that type
// ("identity", "configuration-set") and name, whatever the ARN's account.
func (t tenant) associated(kind, name string) bool {
	for arn := range t.resources {
		if strings.HasSuffix(arn, ":"+kind+"/"+name) {
			return true
		}
	}
	return false
}

// arn is the resource's ARN as the fix command needs it; the tenant's own
// ARN gives the partition, region and account.
func (t tenant) arn(region, kind, name string) string {
	prefix := t.arnPrefix
	if prefix == "" {
		prefix = "arn:aws:ses:" + region + ":ACCOUNT_ID:"
	}
	return prefix + kind + "/" + name
}

// tenantRows checks the SES tenant a set sends through (its theme's
// ses_tenant): SES refuses every send through a tenant that does not
// exist, or that the sender's identity or the configuration set is not
// associated with, and the mailer dead-letters those codes as ses_tenant.
// via is the verified identity SES vouches for the sender with; "" when
// none does (the sender row fails already).
func (d *doctor) tenantRows(ctx context.Context, set, name, via, configSet string) []Result {
	row := func(state State, detail, fix string) Result {
		return Result{Check: CheckTenant, Subject: set, State: state, Detail: detail, Fix: fix}
	}
	t := d.tenant(ctx, name)
	switch {
	case !t.found && t.err == nil:
		return []Result{row(Fail, fmt.Sprintf("set %s sends through the SES tenant %s, which does not exist in %s: every code of this tenant is dead-lettered as ses_tenant", set, name, d.Region),
			fmt.Sprintf("aws sesv2 create-tenant --tenant-name %s, then associate the sender's identity and the configuration set (run doctor again for the commands); or drop ses_tenant from the set's theme.yaml", name))}
	case t.err != nil:
		return []Result{row(Fail, describe("SES "+t.call+" "+name, t.err), permissionFix("ses:"+t.call))}
	}
	var out []Result
	switch t.status {
	case sestypes.SendingStatusDisabled:
		out = append(out, row(Fail, fmt.Sprintf("sending is paused for the SES tenant %s (set %s): every code of this tenant is dead-lettered as ses_tenant", name, set),
			"find the cause on the tenant's page of the SES console (its reputation findings), then reinstate the tenant"))
	case sestypes.SendingStatusReinstated:
		out = append(out, row(Warn, fmt.Sprintf("the SES tenant %s (set %s) sends despite active reputation findings (REINSTATED)", name, set),
			"bring the tenant's bounces and complaints down (SES console, the tenant's reputation) before SES pauses it again"))
	default:
		out = append(out, row(OK, fmt.Sprintf("set %s sends through the SES tenant %s, which exists and sends", set, name), ""))
	}
	associate := func(kind, resource, what string) Result {
		res := Result{Check: CheckTenantResources, Subject: set}
		if t.associated(kind, resource) {
			res.State, res.Detail = OK, fmt.Sprintf("%s %s is associated with the tenant %s", what, resource, name)
			return res
		}
		res.State = Fail
		res.Detail = fmt.Sprintf("%s %s is not associated with the SES tenant %s: SES refuses every send of set %s (dead-lettered as ses_tenant)", what, resource, name, set)
		res.Fix = fmt.Sprintf("aws sesv2 create-tenant-resource-association --tenant-name %s --resource-arn %s", name, t.arn(d.Region, kind, resource))
		return res
	}
	if via == "" {
		out = append(out, Result{Check: CheckTenantResources, Subject: set, State: Skip, Detail: "no verified identity covers the sender, so none can be associated yet"})
	} else {
		out = append(out, associate("identity", via, "the identity"))
	}
	if configSet == "" {
		out = append(out, Result{Check: CheckTenantResources, Subject: set, State: Skip,
			Detail: "the mailer names no configuration set; a default set of the identity must be associated with the tenant too"})
	} else {
		out = append(out, associate("configuration-set", configSet, "the configuration set"))
	}
	return out
}
