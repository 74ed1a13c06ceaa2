// Package store keeps compiled template sets in S3, so that an operator
// can change one tenant's branding or wording on a running deployment,
// see it in the next email, and undo it, without rebuilding or
// redeploying anything.
//
// Layout, under a prefix ("templates/" by default) of one bucket:
//
//	index.json                  every set's current version: the pointers
//	sets/<set>/<version>.json   a compiled bundle (templates/compiled) holding that one set
//
// A version is compiled.VersionOf the bundle's bytes, so a bundle object
// never changes once written (it is created with If-None-Match: *), the
// same set compiled twice is the same version, and a version names
// exactly one bundle. Every publish and rollback is one conditional PUT of
// index.json (If-Match: the ETag it read), which S3 applies atomically:
// a reader sees the old index or the new one, never a mix, and two
// operators publishing at once cannot lose each other's change.
//
// One index for all sets, rather than a pointer object per set, is what
// lets the mailer check the whole store with one conditional GET (a 304
// while nothing changed, with no body to decode), whatever the number of
// tenants; an index entry is about 150 bytes, so it stays small. The
// bundles it points at are immutable, so the mailer keeps each decoded
// bundle until the index names another version, and fetches only what
// changed.
//
// The mailer links Live, which only reads (GetObject); otpctl links Admin,
// which also writes. Neither needs hermes or a YAML parser: publishing
// compiles the sets first (package templates/publish).
package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/templates/compiled"
)

// IndexKey is the index's key under the prefix.
const IndexKey = "index.json"

// IndexFormat is the index format this package reads and writes.
const IndexFormat = 1

// Limits on what the store reads: a bundle of every locale of a set is
// tens of KB, the index 150 bytes a set. Past these something is wrong,
// and reading on would only cost the mailer memory.
const (
	maxIndexBytes  = 1 << 20
	maxBundleBytes = 8 << 20
)

// Index is the store's index: every set the store serves and its current
// version.
type Index struct {
	Format int              `json:"format"`
	Sets   map[string]Entry `json:"sets"`
}

// Entry is one set's pointer.
type Entry struct {
	// Version is the set's current bundle; "" when the set was rolled back
	// to before its first publish, so that it renders from the sets built
	// into the mailer again.
	Version string `json:"version"`
	// Previous is the version before the last publish or rollback, where
	// a rollback without --to goes ("" for the built-in sets).
	Previous  string    `json:"previous,omitempty"`
	UpdatedAt time.Time `json:"updatedAt"`
	// UpdatedBy is who moved the pointer, as STS GetCallerIdentity named
	// them (an ARN).
	UpdatedBy string `json:"updatedBy,omitempty"`
}

var (
	setNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,63}$`)
	versionRE = regexp.MustCompile(`^[0-9a-f]{16}$`)
)

// ParseIndex decodes and checks an index: strictly, because a hand-edited
// index that half parses must not move any pointer.
func ParseIndex(data []byte) (Index, error) {
	var idx Index
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&idx); err != nil {
		return Index{}, fmt.Errorf("template store index: %w", err)
	}
	if dec.More() {
		return Index{}, fmt.Errorf("template store index: data after the JSON object")
	}
	if idx.Format != IndexFormat {
		return Index{}, fmt.Errorf("template store index: format %d, this release reads format %d", idx.Format, IndexFormat)
	}
	for name, e := range idx.Sets {
		if !setNameRE.MatchString(name) {
			return Index{}, fmt.Errorf("template store index: set name %q: want 1..63 of A-Z a-z 0-9 _ -", name)
		}
		for what, v := range map[string]string{"version": e.Version, "previous": e.Previous} {
			if v != "" && !versionRE.MatchString(v) {
				return Index{}, fmt.Errorf("template store index: set %q: %s %q: want %d hex digits", name, what, v, compiled.VersionLen)
			}
		}
	}
	if idx.Sets == nil {
		idx.Sets = map[string]Entry{}
	}
	return idx, nil
}

// encode writes the index deterministically (encoding/json sorts map
// keys), indented so that `aws s3 cp s3://…/index.json -` reads well.
func (idx Index) encode() []byte {
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("encode template store index: %v", err)) // only strings and times: cannot fail
	}
	return append(b, '\n')
}

// Names lists the index's sets, sorted.
func (idx Index) Names() []string {
	names := make([]string, 0, len(idx.Sets))
	for n := range idx.Sets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Layout names the store's objects under a prefix.
type Layout struct{ Prefix string }

// Index is the index's key.
func (l Layout) Index() string { return l.Prefix + IndexKey }

// Bundle is the key of one version of a set.
func (l Layout) Bundle(set, version string) string {
	return l.Prefix + "sets/" + set + "/" + version + ".json"
}

// SetPrefix is the prefix of every version of a set.
func (l Layout) SetPrefix(set string) string { return l.Prefix + "sets/" + set + "/" }

// versionOfKey is the version a bundle key names, or "".
func (l Layout) versionOfKey(set, key string) string {
	v, ok := strings.CutPrefix(key, l.SetPrefix(set))
	if !ok {
		return ""
	}
	v, ok = strings.CutSuffix(v, ".json")
	if !ok || !versionRE.MatchString(v) {
		return ""
	}
	return v
}

// ValidSetName reports whether name can be a set (and so a key segment).
func ValidSetName(name string) bool { return setNameRE.MatchString(name) }

func fullSHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
