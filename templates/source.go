package templates

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing/fstest"
)

// Source is where template sets come from: a file system whose top-level
// directories are sets ("default", "acme", ...). Load layers sources, later
// ones replacing earlier ones set by set. An S3 source only has to fetch a
// prefix into an fs.FS (fstest.MapFS will do) to fit.
type Source interface {
	// String names the source in problems and errors ("embedded",
	// "dir /etc/otp/templates").
	String() string
	// Open returns the sets. It is called once per Load.
	Open() (fs.FS, error)
}

//go:embed sets
var embedded embed.FS

// Embedded returns the sets compiled into the binary: "default" and the
// example tenants.
func Embedded() Source {
	return fsSource{name: "embedded", embedded: true, open: func() (fs.FS, error) { return fs.Sub(embedded, "sets") }}
}

// Dir returns the sets in a directory (otp-local's --templates-dir; the
// mailer Lambda's OTP_TEMPLATES_DIR holds these sets compiled, see
// templates/compiled). A set in it replaces the embedded set of the same
// name as a whole: locales are not merged, so a tenant's set never mixes
// wording from two places. A bundle compiled from the directory may sit
// beside the sets; Load skips it.
func Dir(path string) Source {
	return fsSource{name: "dir " + path, open: func() (fs.FS, error) {
		st, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("%s is not a directory", path)
		}
		return os.DirFS(path), nil
	}}
}

// SetDir returns a single set directory (one holding theme.yaml), named
// after its last path element. The checker uses it so that an operator can
// check one set in the making without arranging a directory of sets.
func SetDir(path string) Source {
	name := filepath.Base(filepath.Clean(path))
	return fsSource{name: "set dir " + path, open: func() (fs.FS, error) {
		if _, err := os.Stat(filepath.Join(path, "theme.yaml")); err != nil {
			return nil, err
		}
		// Copy the set under its name; sets are a few small files.
		out := fstest.MapFS{}
		err := fs.WalkDir(os.DirFS(path), ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				out[name+"/"+p] = &fstest.MapFile{Mode: fs.ModeDir | 0o755}
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			if info.Size() > maxFileSize {
				return fmt.Errorf("%s: larger than %d KiB", p, maxFileSize>>10)
			}
			data, err := os.ReadFile(filepath.Join(path, filepath.FromSlash(p)))
			if err != nil {
				return err
			}
			out[name+"/"+p] = &fstest.MapFile{Data: data, Mode: 0o644}
			return nil
		})
		if err != nil {
			return nil, err
		}
		return out, nil
	}}
}

// FromFS returns the sets in fsys, named name in problems. Tests and future
// sources (S3) use it.
func FromFS(name string, fsys fs.FS) Source {
	return fsSource{name: name, open: func() (fs.FS, error) { return fsys, nil }}
}

type fsSource struct {
	name     string
	embedded bool // the sets compiled into the binary, which Load memoises
	open     func() (fs.FS, error)
}

func (s fsSource) String() string       { return s.name }
func (s fsSource) Open() (fs.FS, error) { return s.open() }
