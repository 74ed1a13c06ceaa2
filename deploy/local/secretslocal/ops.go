package secretslocal

import (
	"context"
	"encoding/base64"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// Model constraints the coral front end enforces before an operation runs.
const (
	maxNameLen        = 512
	maxSecretIDLen    = 2048
	minTokenLen       = 32
	maxTokenLen       = 64
	maxValueBytes     = 65536
	maxDescriptionLen = 2048
	maxStageLen       = 256
)

// nameRE is the character set the recorded ValidationException lists.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9/_+=.@!-]+$`)

func validName(name string) error {
	if len(name) < 1 || len(name) > maxNameLen {
		return errValidation("name", "Member must have length less than or equal to 512")
	}
	if !nameRE.MatchString(name) {
		return errInvalidName()
	}
	return nil
}

// validSecretID checks a SecretId: an ARN, or a name with a name's
// characters (AWS answers a malformed name with ValidationException on every
// operation, not with ResourceNotFoundException).
func validSecretID(id *string) (string, error) {
	if id == nil {
		return "", errMissingParameter("secretId")
	}
	if len(*id) < 1 || len(*id) > maxSecretIDLen {
		return "", errValidation("secretId", "Member must have length less than or equal to 2048")
	}
	if len(*id) >= 4 && (*id)[:4] == "arn:" {
		return *id, nil
	}
	if !nameRE.MatchString(*id) {
		return "", errInvalidName()
	}
	return *id, nil
}

// validToken checks a ClientRequestToken. The SDKs always fill it in; a raw
// request without one gets the recorded InvalidRequestException.
func validToken(tok *string) (string, error) {
	if tok == nil {
		return "", errNoClientRequestToken()
	}
	return *tok, validVersionID("clientRequestToken", *tok)
}

func validVersionID(member, id string) error {
	if len(id) < minTokenLen {
		return errValidation(member, "Member must have length greater than or equal to 32")
	}
	if len(id) > maxTokenLen {
		return errValidation(member, "Member must have length less than or equal to 64")
	}
	return nil
}

func validStage(member, stage string) error {
	if len(stage) < 1 || len(stage) > maxStageLen {
		return errValidation(member, "Member must have length less than or equal to 256")
	}
	return nil
}

// validValue checks a request's secret value. Neither is allowed only where
// the operation permits a secret without a value (CreateSecret).
func validValue(str *string, bin []byte, required bool) error {
	switch {
	case str != nil && bin != nil:
		return errInvalidParameter("You can't specify both a binary secret value and a string secret value in the same secret.")
	case str == nil && bin == nil && required:
		return errInvalidRequest("You must provide either SecretString or SecretBinary.")
	case str != nil && len(*str) > maxValueBytes:
		return errValidation("secretString", "Member must have length less than or equal to 65536")
	case len(bin) > maxValueBytes:
		return errValidation("secretBinary", "Member must have length less than or equal to 65536")
	}
	return nil
}

type nameOutput struct {
	ARN  string `json:"ARN"`
	Name string `json:"Name"`
}

type versionOutput struct {
	ARN           string   `json:"ARN"`
	Name          string   `json:"Name"`
	VersionID     string   `json:"VersionId,omitempty"`
	VersionStages []string `json:"VersionStages,omitempty"`
}

// ---- CreateSecret

type createSecretInput struct {
	Name               *string
	ClientRequestToken *string
	Description        *string
	KmsKeyID           *string `json:"KmsKeyId"`
	SecretString       *string
	SecretBinary       []byte
	Tags               []Tag
	AddReplicaRegions  []map[string]any
}

func (s *Server) opCreateSecret(_ context.Context, body []byte) (any, error) {
	var in createSecretInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, errMissingParameter("name")
	}
	if err := validName(*in.Name); err != nil {
		return nil, err
	}
	hasValue := in.SecretString != nil || in.SecretBinary != nil
	token := ""
	if hasValue || in.ClientRequestToken != nil {
		var err error
		if token, err = validToken(in.ClientRequestToken); err != nil {
			return nil, err
		}
	}
	if err := validValue(in.SecretString, in.SecretBinary, false); err != nil {
		return nil, err
	}
	if in.Description != nil && len(*in.Description) > maxDescriptionLen {
		return nil, errValidation("description", "Member must have length less than or equal to 2048")
	}
	if len(in.AddReplicaRegions) > 0 {
		return nil, errInvalidRequest("secretslocal serves one Region; AddReplicaRegions is not supported.")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if x := s.lookupLocked(*in.Name); x != nil {
		if x.deleted() {
			return nil, errScheduledForDeletion()
		}
		// A retry of the same request (same token, same value) answers as
		// the first did; AWS compares the value only, not the description.
		if v := x.version(token); v != nil && token != "" {
			if v.HasValue && v.sameValue(in.SecretString, in.SecretBinary) {
				return versionOutput{ARN: x.ARN, Name: x.Name, VersionID: v.ID}, nil
			}
			return nil, errTokenInUse(token, x.ARN)
		}
		return nil, errSecretExists(*in.Name)
	}
	x := &secret{ARN: s.newARN(*in.Name), Name: *in.Name, Description: in.Description, Tags: in.Tags, Created: now, Changed: now}
	if in.KmsKeyID != nil {
		x.KmsKeyID = *in.KmsKeyID
	}
	out := versionOutput{ARN: x.ARN, Name: x.Name}
	if hasValue {
		x.Versions = []*version{{ID: token, String: in.SecretString, Binary: in.SecretBinary, HasValue: true,
			Stages: []string{StageCurrent}, Created: now}}
		out.VersionID = token
	}
	s.secrets[x.Name] = x
	return out, s.saveLocked()
}

// ---- GetSecretValue

type getSecretValueInput struct {
	SecretID     *string `json:"SecretId"`
	VersionID    *string `json:"VersionId"`
	VersionStage *string
}

type getSecretValueOutput struct {
	ARN           string   `json:"ARN"`
	Name          string   `json:"Name"`
	VersionID     string   `json:"VersionId"`
	SecretString  *string  `json:"SecretString,omitempty"`
	SecretBinary  []byte   `json:"SecretBinary,omitempty"`
	VersionStages []string `json:"VersionStages,omitempty"`
	CreatedDate   *epoch   `json:"CreatedDate,omitempty"`
}

func (s *Server) opGetSecretValue(_ context.Context, body []byte) (any, error) {
	var in getSecretValueInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	id, err := validSecretID(in.SecretID)
	if err != nil {
		return nil, err
	}
	if in.VersionID != nil {
		if err := validVersionID("versionId", *in.VersionID); err != nil {
			return nil, err
		}
	}
	if in.VersionStage != nil {
		if err := validStage("versionStage", *in.VersionStage); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	x, err := s.liveLocked(id)
	if err != nil {
		return nil, err
	}
	v, err := resolveVersion(x, in.VersionID, in.VersionStage)
	if err != nil {
		return nil, err
	}
	today := s.now().UTC().Truncate(24 * time.Hour)
	if !x.Accessed.Equal(today) || !v.Accessed.Equal(today) {
		x.Accessed, v.Accessed = today, today
		if err := s.saveLocked(); err != nil {
			return nil, err
		}
	}
	return getSecretValueOutput{ARN: x.ARN, Name: x.Name, VersionID: v.ID, SecretString: v.String,
		SecretBinary: v.Binary, VersionStages: slices.Clone(v.Stages), CreatedDate: epochPtr(v.Created)}, nil
}

// resolveVersion picks the version GetSecretValue returns: by id, by label
// (default AWSCURRENT), or by both when both are given and agree. A version
// without a value (one RotateSecret opened, not yet filled by createSecret)
// is not found, which is how a rotation function's createSecret step learns
// that it still has to put one.
func resolveVersion(x *secret, id, stage *string) (*version, error) {
	if id != nil {
		v := x.version(*id)
		switch {
		case v == nil:
			return nil, errNoValueForVersion(*id)
		case stage != nil && !v.has(*stage):
			return nil, errStageNotOnVersion()
		case !v.HasValue:
			return nil, errNoValueForVersion(*id)
		}
		return v, nil
	}
	label := StageCurrent
	if stage != nil {
		label = *stage
	}
	v := x.holder(label)
	if v == nil || !v.HasValue {
		return nil, errNoValueForStage(label)
	}
	return v, nil
}

// ---- PutSecretValue

type putSecretValueInput struct {
	SecretID           *string `json:"SecretId"`
	ClientRequestToken *string
	SecretString       *string
	SecretBinary       []byte
	VersionStages      *[]string
	RotationToken      *string
}

func (s *Server) opPutSecretValue(_ context.Context, body []byte) (any, error) {
	var in putSecretValueInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	id, err := validSecretID(in.SecretID)
	if err != nil {
		return nil, err
	}
	token, err := validToken(in.ClientRequestToken)
	if err != nil {
		return nil, err
	}
	if err := validValue(in.SecretString, in.SecretBinary, true); err != nil {
		return nil, err
	}
	stages, err := requestedStages(in.VersionStages)
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	x, err := s.liveLocked(id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	v := x.version(token)
	switch {
	case v != nil && v.HasValue:
		// Versions are immutable: a retry with the same value is a no-op
		// that reports the version as it stands; another value is refused.
		if !v.sameValue(in.SecretString, in.SecretBinary) {
			return nil, errTokenInUse(token, x.ARN)
		}
		return versionOutput{ARN: x.ARN, Name: x.Name, VersionID: v.ID, VersionStages: slices.Clone(v.Stages)}, nil
	case v == nil:
		if len(x.Versions) == 0 && !slices.Contains(stages, StageCurrent) {
			// The first version of a secret is always its current one.
			stages = append(stages, StageCurrent)
		}
		v = &version{ID: token, Created: now}
		x.Versions = append(x.Versions, v)
	}
	// v is new, or the empty version RotateSecret opened for this token.
	v.String, v.Binary, v.HasValue = in.SecretString, in.SecretBinary, true
	for _, stage := range stages {
		if stage == StageCurrent {
			// AWS's recorded behaviour: when a put takes AWSCURRENT from a
			// version that also holds AWSPENDING (what a finished rotation
			// leaves), that version loses AWSPENDING too.
			if from := x.holder(StageCurrent); from != nil && from != v && !slices.Contains(stages, StagePending) {
				from.remove(StagePending)
			}
		}
		x.attach(v, stage)
	}
	x.Changed = now
	x.prune(now)
	return versionOutput{ARN: x.ARN, Name: x.Name, VersionID: v.ID, VersionStages: slices.Clone(v.Stages)}, s.saveLocked()
}

// requestedStages is PutSecretValue's VersionStages: AWSCURRENT when the
// member is absent; a present list must hold 1 to 20 labels.
func requestedStages(in *[]string) ([]string, error) {
	if in == nil {
		return []string{StageCurrent}, nil
	}
	if len(*in) < 1 || len(*in) > maxStageLabels {
		return nil, errValidation("versionStages", "Member must have length between 1 and 20")
	}
	out := make([]string, 0, len(*in))
	for _, st := range *in {
		if err := validStage("versionStages.member", st); err != nil {
			return nil, err
		}
		if !slices.Contains(out, st) {
			out = append(out, st)
		}
	}
	return out, nil
}

// ---- UpdateSecretVersionStage

type updateSecretVersionStageInput struct {
	SecretID            *string `json:"SecretId"`
	VersionStage        *string
	MoveToVersionID     *string `json:"MoveToVersionId"`
	RemoveFromVersionID *string `json:"RemoveFromVersionId"`
}

func (s *Server) opUpdateSecretVersionStage(_ context.Context, body []byte) (any, error) {
	var in updateSecretVersionStageInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	id, err := validSecretID(in.SecretID)
	if err != nil {
		return nil, err
	}
	if in.VersionStage == nil {
		return nil, errMissingParameter("versionStage")
	}
	stage := *in.VersionStage
	if err := validStage("versionStage", stage); err != nil {
		return nil, err
	}
	moveTo, removeFrom := deref(in.MoveToVersionID), deref(in.RemoveFromVersionID)
	for _, m := range []struct {
		member string
		id     *string
	}{{"moveToVersionId", in.MoveToVersionID}, {"removeFromVersionId", in.RemoveFromVersionID}} {
		if m.id != nil {
			if err := validVersionID(m.member, *m.id); err != nil {
				return nil, err
			}
		}
	}
	if moveTo == "" && removeFrom == "" {
		return nil, errInvalidParameter("You must specify MoveToVersionId, RemoveFromVersionId or both.")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	x, err := s.liveLocked(id)
	if err != nil {
		return nil, err
	}
	holder := x.holder(stage)
	var from *version
	if removeFrom != "" {
		if from = x.version(removeFrom); from == nil {
			return nil, errInvalidParameter("RemoveFromVersionId %s is not a version of this secret.", removeFrom)
		}
	}
	if moveTo == "" {
		// Only removing the label.
		if from != holder {
			return nil, errInvalidParameter("Staging label %s is not attached to version %s, so it can't be removed from it.", stage, removeFrom)
		}
		if stage == StageCurrent {
			return nil, errCurrentCannotBeRemoved()
		}
		from.remove(stage)
	} else {
		to := x.version(moveTo)
		if to == nil {
			return nil, errInvalidParameter("MoveToVersionId %s is not a version of this secret.", moveTo)
		}
		switch {
		case holder != nil && holder != to && from == nil:
			return nil, errRemoveFromRequired(stage, holder.ID)
		case from != nil && from != holder && !(holder == to && from == to):
			// The label must come off the version that holds it, and only that one.
			return nil, errInvalidParameter("When you move staging label %s, RemoveFromVersionId must be the version it is attached to (%s).", stage, holderID(holder))
		}
		x.attach(to, stage)
	}
	now := s.now()
	x.Changed = now
	x.prune(now)
	return nameOutput{ARN: x.ARN, Name: x.Name}, s.saveLocked()
}

func holderID(v *version) string {
	if v == nil {
		return "none"
	}
	return v.ID
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// ---- DescribeSecret

type describeSecretInput struct {
	SecretID *string `json:"SecretId"`
}

type describeSecretOutput struct {
	ARN                string              `json:"ARN"`
	Name               string              `json:"Name"`
	Description        *string             `json:"Description,omitempty"`
	KmsKeyID           string              `json:"KmsKeyId,omitempty"`
	RotationEnabled    *bool               `json:"RotationEnabled,omitempty"`
	RotationLambdaARN  string              `json:"RotationLambdaARN,omitempty"`
	RotationRules      *RotationRules      `json:"RotationRules,omitempty"`
	LastRotatedDate    *epoch              `json:"LastRotatedDate,omitempty"`
	LastChangedDate    *epoch              `json:"LastChangedDate,omitempty"`
	LastAccessedDate   *epoch              `json:"LastAccessedDate,omitempty"`
	DeletedDate        *epoch              `json:"DeletedDate,omitempty"`
	CreatedDate        *epoch              `json:"CreatedDate,omitempty"`
	Tags               []Tag               `json:"Tags,omitempty"`
	VersionIdsToStages map[string][]string `json:"VersionIdsToStages,omitempty"`
}

func (s *Server) opDescribeSecret(_ context.Context, body []byte) (any, error) {
	var in describeSecretInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	id, err := validSecretID(in.SecretID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// A secret scheduled for deletion can still be described (with its
	// DeletedDate); it is only its values that are out of reach.
	x := s.lookupLocked(id)
	if x == nil {
		return nil, errSecretNotFound()
	}
	out := describeSecretOutput{ARN: x.ARN, Name: x.Name, Description: x.Description, KmsKeyID: x.KmsKeyID,
		LastRotatedDate: epochPtr(x.LastRotated), LastChangedDate: epochPtr(x.Changed), LastAccessedDate: epochPtr(x.Accessed),
		DeletedDate: epochPtr(x.Deleted), CreatedDate: epochPtr(x.Created), Tags: x.Tags}
	if r := x.Rotation; r != nil {
		enabled := r.Enabled
		out.RotationEnabled, out.RotationLambdaARN, out.RotationRules = &enabled, r.LambdaARN, r.Rules
	}
	if m := x.labelled(); len(m) > 0 {
		out.VersionIdsToStages = m
	}
	return out, nil
}

// ---- ListSecretVersionIds

type listSecretVersionIDsInput struct {
	SecretID          *string `json:"SecretId"`
	MaxResults        *int
	NextToken         *string
	IncludeDeprecated bool
}

type versionEntry struct {
	VersionID        string   `json:"VersionId"`
	VersionStages    []string `json:"VersionStages,omitempty"`
	LastAccessedDate *epoch   `json:"LastAccessedDate,omitempty"`
	CreatedDate      *epoch   `json:"CreatedDate,omitempty"`
	KmsKeyIDs        []string `json:"KmsKeyIds,omitempty"`
}

type listSecretVersionIDsOutput struct {
	ARN       string         `json:"ARN"`
	Name      string         `json:"Name"`
	Versions  []versionEntry `json:"Versions"`
	NextToken string         `json:"NextToken,omitempty"`
}

func (s *Server) opListSecretVersionIds(_ context.Context, body []byte) (any, error) {
	var in listSecretVersionIDsInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	id, err := validSecretID(in.SecretID)
	if err != nil {
		return nil, err
	}
	limit := 100
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 100 {
			return nil, errValidation("maxResults", "Member must have value between 1 and 100")
		}
		limit = *in.MaxResults
	}
	start := 0
	if in.NextToken != nil {
		b, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		if err != nil {
			return nil, errInvalidNextToken()
		}
		if start, err = strconv.Atoi(string(b)); err != nil || start < 0 {
			return nil, errInvalidNextToken()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.lookupLocked(id)
	if x == nil {
		return nil, errSecretNotFound()
	}
	kms := x.KmsKeyID
	if kms == "" {
		kms = "DefaultEncryptionKey" // what AWS lists for the aws/secretsmanager key
	}
	var all []versionEntry
	for _, v := range x.Versions {
		if len(v.Stages) == 0 && !in.IncludeDeprecated {
			continue
		}
		all = append(all, versionEntry{VersionID: v.ID, VersionStages: slices.Clone(v.Stages),
			LastAccessedDate: epochPtr(v.Accessed), CreatedDate: epochPtr(v.Created), KmsKeyIDs: []string{kms}})
	}
	if start > len(all) {
		return nil, errInvalidNextToken()
	}
	out := listSecretVersionIDsOutput{ARN: x.ARN, Name: x.Name, Versions: all[start:]}
	if len(out.Versions) > limit {
		out.Versions = out.Versions[:limit]
		out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(start + limit)))
	}
	if out.Versions == nil {
		out.Versions = []versionEntry{}
	}
	return out, nil
}

// ---- DeleteSecret and RestoreSecret

type deleteSecretInput struct {
	SecretID                   *string `json:"SecretId"`
	RecoveryWindowInDays       *int64
	ForceDeleteWithoutRecovery *bool
}

type deleteSecretOutput struct {
	ARN          string `json:"ARN"`
	Name         string `json:"Name"`
	DeletionDate *epoch `json:"DeletionDate"`
}

func (s *Server) opDeleteSecret(_ context.Context, body []byte) (any, error) {
	var in deleteSecretInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	id, err := validSecretID(in.SecretID)
	if err != nil {
		return nil, err
	}
	force := in.ForceDeleteWithoutRecovery != nil && *in.ForceDeleteWithoutRecovery
	window := int64(30)
	if in.RecoveryWindowInDays != nil {
		if force {
			return nil, errInvalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
		}
		if window = *in.RecoveryWindowInDays; window < 7 || window > 30 {
			return nil, errInvalidParameter("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	x := s.lookupLocked(id)
	switch {
	case x == nil && force:
		// AWS answers a forced delete of a missing secret as if it had
		// existed (LocalStack's AWS-validated test records it).
		return deleteSecretOutput{ARN: s.arnPrefix() + id, Name: id, DeletionDate: epochPtr(now)}, nil
	case x == nil:
		return nil, errSecretNotFound()
	case x.deleted() && !force:
		return nil, errMarkedForDeletion()
	case force:
		delete(s.secrets, x.Name)
		return deleteSecretOutput{ARN: x.ARN, Name: x.Name, DeletionDate: epochPtr(now)}, s.saveLocked()
	}
	x.Deleted, x.PurgeAt, x.Changed = now, now.Add(time.Duration(window)*24*time.Hour), now
	return deleteSecretOutput{ARN: x.ARN, Name: x.Name, DeletionDate: epochPtr(x.PurgeAt)}, s.saveLocked()
}

func (s *Server) opRestoreSecret(_ context.Context, body []byte) (any, error) {
	var in describeSecretInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	id, err := validSecretID(in.SecretID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.lookupLocked(id)
	if x == nil {
		return nil, errSecretNotFound()
	}
	x.Deleted, x.PurgeAt, x.Changed = time.Time{}, time.Time{}, s.now()
	return nameOutput{ARN: x.ARN, Name: x.Name}, s.saveLocked()
}
