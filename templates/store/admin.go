package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognito-email-otp/cognito-email-otp/templates/compiled"
)

// Admin publishes, lists and rolls back template sets: otpctl templates
// publish, versions, rollback and current. It needs s3:GetObject,
// s3:PutObject and s3:ListBucket on the store (the README has the policy).
type Admin struct {
	Client         AdminAPI
	Bucket, Prefix string
	// Now is the clock (tests).
	Now func() time.Time
}

// Object metadata of a bundle (x-amz-meta-*): who published it and when,
// what it holds, and its whole SHA-256 (the version is its first 64 bits).
const (
	metaPublishedBy = "published-by"
	metaPublishedAt = "published-at"
	metaLocales     = "locales"
	metaSHA256      = "sha256"
)

// indexWriteAttempts bounds the read-modify-write of the index when other
// publishes keep winning the race.
const indexWriteAttempts = 8

// Upload is one set's compiled bundle to publish.
type Upload struct {
	Set  string
	Data []byte
}

// Change is what a publish or rollback did to one set.
type Change struct {
	Set string `json:"set"`
	// From and To are versions; "" is the built-in set.
	From string `json:"from"`
	To   string `json:"to"`
	// Unchanged: the set was already at To; nothing was written.
	Unchanged bool `json:"unchanged"`
	// Uploaded: the bundle was new to the store (a publish of a version
	// the store already holds only moves the pointer).
	Uploaded bool     `json:"uploaded"`
	Bytes    int      `json:"bytes,omitempty"`
	Locales  []string `json:"locales,omitempty"`
}

// VersionInfo is one version of a set in the store.
type VersionInfo struct {
	Version     string    `json:"version"`
	PublishedAt time.Time `json:"publishedAt"`
	PublishedBy string    `json:"publishedBy"`
	Bytes       int64     `json:"bytes"`
	Locales     []string  `json:"locales"`
	Current     bool      `json:"current"`
	Previous    bool      `json:"previous"`
}

func (a *Admin) layout() Layout { return Layout{Prefix: a.Prefix} }

func (a *Admin) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

// Index reads the index and its ETag; an empty index and "" when the store
// has none yet.
func (a *Admin) Index(ctx context.Context) (Index, string, error) {
	key := a.layout().Index()
	out, err := a.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(a.Bucket), Key: aws.String(key)})
	if notFound(err) {
		return Index{Format: IndexFormat, Sets: map[string]Entry{}}, "", nil
	}
	if err != nil {
		return Index{}, "", fmt.Errorf("read s3://%s/%s: %w", a.Bucket, key, err)
	}
	data, err := readAll(out.Body, maxIndexBytes, key)
	if err != nil {
		return Index{}, "", err
	}
	idx, err := ParseIndex(data)
	if err != nil {
		return Index{}, "", fmt.Errorf("s3://%s/%s: %w", a.Bucket, key, err)
	}
	return idx, aws.ToString(out.ETag), nil
}

// Publish uploads each set's bundle and moves all their pointers in one
// write of the index. Every bundle is validated as the mailer will
// (VerifyBundle) before anything is written. A set already at the version
// its bundle hashes to is reported Unchanged; when every set is, nothing
// is written at all.
func (a *Admin) Publish(ctx context.Context, uploads []Upload, by string) ([]Change, error) {
	type prepared struct {
		Upload
		version string
		locales []string
	}
	var ps []prepared
	seen := map[string]bool{}
	for _, u := range uploads {
		if !ValidSetName(u.Set) {
			return nil, fmt.Errorf("publish: set name %q: want 1..63 of A-Z a-z 0-9 _ -", u.Set)
		}
		if seen[u.Set] {
			return nil, fmt.Errorf("publish: set %q given twice", u.Set)
		}
		seen[u.Set] = true
		version := compiled.VersionOf(u.Data)
		b, err := VerifyBundle("set "+u.Set, u.Set, version, u.Data)
		if err != nil {
			return nil, fmt.Errorf("publish: %w", err)
		}
		ps = append(ps, prepared{u, version, b.Locales(u.Set)})
	}
	if len(ps) == 0 {
		return nil, errors.New("publish: no sets")
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Set < ps[j].Set })

	uploaded := map[string]bool{}
	for attempt := 1; ; attempt++ {
		idx, etag, err := a.Index(ctx)
		if err != nil {
			return nil, fmt.Errorf("publish: %w", err)
		}
		changes := make([]Change, len(ps))
		moved := false
		for i, p := range ps {
			cur := idx.Sets[p.Set]
			changes[i] = Change{Set: p.Set, From: cur.Version, To: p.version, Bytes: len(p.Data), Locales: p.locales,
				Unchanged: cur.Version == p.version}
			moved = moved || !changes[i].Unchanged
		}
		if !moved {
			return changes, nil
		}
		// Bundles first, the index last: a reader who sees the new index
		// finds every bundle it names (S3 is read-after-write consistent).
		for i, p := range ps {
			if changes[i].Unchanged {
				continue
			}
			if _, done := uploaded[p.Set]; !done {
				isNew, err := a.putBundle(ctx, p.Set, p.version, p.Data, p.locales, by)
				if err != nil {
					return nil, fmt.Errorf("publish %s: %w", p.Set, err)
				}
				uploaded[p.Set] = isNew
			}
			changes[i].Uploaded = uploaded[p.Set]
			idx.Sets[p.Set] = Entry{Version: p.version, Previous: idx.Sets[p.Set].Version, UpdatedAt: a.now(), UpdatedBy: by}
		}
		err = a.putIndex(ctx, idx, etag)
		if err == nil {
			return changes, nil
		}
		if !conflict(err) || attempt == indexWriteAttempts {
			return nil, fmt.Errorf("publish: %w", err)
		}
		// Another publish moved a pointer since the read: read it again
		// and apply this one on top.
	}
}

// putBundle creates a bundle object unless the store holds it already. It
// reports whether it was new. If-None-Match: * makes the create atomic: a
// version's object is never overwritten, so the mailer can keep a decoded
// version for as long as the index names it.
func (a *Admin) putBundle(ctx context.Context, set, version string, data []byte, locales []string, by string) (bool, error) {
	key := a.layout().Bundle(set, version)
	sum := fullSHA256(data)
	_, err := a.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(a.Bucket), Key: aws.String(key), Body: bytes.NewReader(data),
		ContentType: aws.String("application/json"), IfNoneMatch: aws.String("*"),
		Metadata: map[string]string{
			metaPublishedBy: asciiOnly(by), metaPublishedAt: a.now().Format(time.RFC3339),
			metaLocales: strings.Join(locales, " "), metaSHA256: sum,
		},
	})
	if err == nil {
		return true, nil
	}
	if !conflict(err) {
		return false, fmt.Errorf("put s3://%s/%s: %w", a.Bucket, key, err)
	}
	// It exists: the same bundle published before (then only the pointer
	// moves), or, with odds of 2^-64, another bundle with the same
	// version, which must not be mistaken for this one.
	head, herr := a.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(a.Bucket), Key: aws.String(key)})
	if herr != nil {
		return false, fmt.Errorf("head s3://%s/%s: %w", a.Bucket, key, herr)
	}
	if got := head.Metadata[metaSHA256]; got != sum {
		return false, fmt.Errorf("s3://%s/%s exists with SHA-256 %q, not %s: refusing to publish over it", a.Bucket, key, got, sum)
	}
	return false, nil
}

func (a *Admin) putIndex(ctx context.Context, idx Index, etag string) error {
	in := &s3.PutObjectInput{
		Bucket: aws.String(a.Bucket), Key: aws.String(a.layout().Index()),
		Body: bytes.NewReader(idx.encode()), ContentType: aws.String("application/json"),
	}
	// Compare-and-swap: only over the index this change was computed from.
	if etag == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(etag)
	}
	_, err := a.Client.PutObject(ctx, in)
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", a.Bucket, aws.ToString(in.Key), err)
	}
	return nil
}

// ErrNoSuchVersion: rollback --to names no version of the set.
var ErrNoSuchVersion = errors.New("no such version")

// Rollback points set at version to, or without to at the version it had
// before its last publish or rollback ("" is the built-in set). to may be
// a unique prefix of a version, or "none" for the built-in set. The
// target bundle is fetched and validated before the pointer moves.
func (a *Admin) Rollback(ctx context.Context, set, to, by string) (Change, error) {
	if !ValidSetName(set) {
		return Change{}, fmt.Errorf("rollback: set name %q: want 1..63 of A-Z a-z 0-9 _ -", set)
	}
	target, explicit := to, to != ""
	if explicit && to != "none" {
		versions, err := a.Versions(ctx, set)
		if err != nil {
			return Change{}, err
		}
		var matches []string
		for _, v := range versions {
			if strings.HasPrefix(v.Version, to) {
				matches = append(matches, v.Version)
			}
		}
		switch {
		case len(matches) == 0:
			return Change{}, fmt.Errorf("rollback %s --to %s: %w (otpctl templates versions %s lists them)", set, to, ErrNoSuchVersion, set)
		case len(matches) > 1:
			return Change{}, fmt.Errorf("rollback %s --to %s: matches %s; give more digits", set, to, strings.Join(matches, ", "))
		}
		target = matches[0]
	}
	if target == "none" {
		target = ""
	}
	verified := false
	for attempt := 1; ; attempt++ {
		idx, etag, err := a.Index(ctx)
		if err != nil {
			return Change{}, fmt.Errorf("rollback: %w", err)
		}
		cur, ok := idx.Sets[set]
		if !ok {
			return Change{}, fmt.Errorf("rollback: the store has never published %q (otpctl templates current lists its sets)", set)
		}
		if !explicit {
			target = cur.Previous
		}
		c := Change{Set: set, From: cur.Version, To: target, Unchanged: cur.Version == target}
		if c.Unchanged {
			return c, nil
		}
		if target != "" && !verified {
			b, size, err := a.fetchVerified(ctx, set, target)
			if err != nil {
				return Change{}, fmt.Errorf("rollback: %w", err)
			}
			verified, c.Bytes, c.Locales = true, size, b.Locales(set)
		}
		idx.Sets[set] = Entry{Version: target, Previous: cur.Version, UpdatedAt: a.now(), UpdatedBy: by}
		err = a.putIndex(ctx, idx, etag)
		if err == nil {
			return c, nil
		}
		if !conflict(err) || attempt == indexWriteAttempts {
			return Change{}, fmt.Errorf("rollback: %w", err)
		}
		if !explicit {
			verified = false // the previous version may be another one now
		}
	}
}

func (a *Admin) fetchVerified(ctx context.Context, set, version string) (*compiled.Bundle, int, error) {
	key := a.layout().Bundle(set, version)
	out, err := a.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(a.Bucket), Key: aws.String(key)})
	if err != nil {
		if notFound(err) {
			return nil, 0, fmt.Errorf("version %s of %s: %w", version, set, ErrNoSuchVersion)
		}
		return nil, 0, fmt.Errorf("get s3://%s/%s: %w", a.Bucket, key, err)
	}
	data, err := readAll(out.Body, maxBundleBytes, key)
	if err != nil {
		return nil, 0, err
	}
	b, err := VerifyBundle(key, set, version, data)
	return b, len(data), err
}

// Versions lists every version of set the store holds, newest first.
func (a *Admin) Versions(ctx context.Context, set string) ([]VersionInfo, error) {
	if !ValidSetName(set) {
		return nil, fmt.Errorf("versions: set name %q: want 1..63 of A-Z a-z 0-9 _ -", set)
	}
	idx, _, err := a.Index(ctx)
	if err != nil {
		return nil, fmt.Errorf("versions: %w", err)
	}
	l := a.layout()
	var out []VersionInfo
	var token *string
	for {
		page, err := a.Client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
			Bucket: aws.String(a.Bucket), Prefix: aws.String(l.SetPrefix(set)), ContinuationToken: token,
		})
		if err != nil {
			return nil, fmt.Errorf("versions: list s3://%s/%s: %w", a.Bucket, l.SetPrefix(set), err)
		}
		for _, obj := range page.Contents {
			v := l.versionOfKey(set, aws.ToString(obj.Key))
			if v == "" {
				continue // not a bundle this package wrote
			}
			info := VersionInfo{Version: v, Bytes: aws.ToInt64(obj.Size), PublishedAt: aws.ToTime(obj.LastModified).UTC(),
				Current: idx.Sets[set].Version == v, Previous: idx.Sets[set].Previous == v}
			head, err := a.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(a.Bucket), Key: obj.Key})
			if err != nil {
				return nil, fmt.Errorf("versions: head s3://%s/%s: %w", a.Bucket, aws.ToString(obj.Key), err)
			}
			info.PublishedBy = head.Metadata[metaPublishedBy]
			if t, err := time.Parse(time.RFC3339, head.Metadata[metaPublishedAt]); err == nil {
				info.PublishedAt = t
			}
			info.Locales = strings.Fields(head.Metadata[metaLocales])
			out = append(out, info)
		}
		if !aws.ToBool(page.IsTruncated) || page.NextContinuationToken == nil {
			break
		}
		token = page.NextContinuationToken
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].PublishedAt.Equal(out[j].PublishedAt) {
			return out[i].PublishedAt.After(out[j].PublishedAt)
		}
		return out[i].Version < out[j].Version
	})
	return out, nil
}

// asciiOnly keeps S3 user metadata to the printable US-ASCII it allows.
func asciiOnly(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}
