// Package s3local is otp-local's S3, for the template store: gofakes3
// (github.com/johannesboyne/gofakes3), an existing implementation of the
// S3 REST API, rather than one of ours, on otp-local's one loopback port,
// path-style (http://127.0.0.1:7070/<bucket>/<key>).
//
// gofakes3 offers three backends: s3mem (in memory, with bucket
// versioning), s3bolt (one bbolt file, each request a transaction) and
// s3afero (a directory of plain files). In memory otp-local uses s3mem;
// with --data-dir, s3bolt, because s3afero truncates an object in place on
// a PUT while a GET may be reading it, so a reader could see half an
// index, which S3 never shows. Neither disk backend keeps versions.
//
// Where gofakes3 is kinder than S3 this package is strict in front of it:
// it refuses unsigned requests (the store's bucket blocks public access on
// AWS) and any request from a browser page (gofakes3 answers every origin
// with Access-Control-Allow-Origin: *, and otp-local has no
// authentication). docs/FIDELITY.md lists what stays different.
package s3local

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3bolt"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"go.etcd.io/bbolt"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
)

// Options configure the S3 endpoint.
type Options struct {
	// DataDir keeps the buckets in DataDir/s3.bolt across restarts; empty
	// keeps them in memory.
	DataDir string
	// Buckets are created at start if they do not exist, with versioning
	// on where the backend has it (in memory).
	Buckets []string
}

// Server serves the S3 REST API.
type Server struct {
	s3        http.Handler
	backend   gofakes3.Backend
	versioned gofakes3.VersionedBackend
	close     func() error
	// Versioned reports whether the backend keeps object versions.
	Versioned bool
}

// New starts the backend and creates the buckets.
func New(o Options) (*Server, error) {
	s := &Server{close: func() error { return nil }}
	if o.DataDir == "" {
		mem := s3mem.New()
		s.backend, s.versioned, s.Versioned = mem, mem, true
	} else {
		if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("s3local: %w", err)
		}
		// Opened here rather than by s3bolt.NewFile, which gives no way to
		// close the file again.
		path := filepath.Join(o.DataDir, "s3.bolt")
		db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 2 * time.Second})
		if err != nil {
			return nil, fmt.Errorf("s3local: open %s (another otp-local using this --data-dir?): %w", path, err)
		}
		s.backend, s.close = s3bolt.New(db), db.Close
	}
	// Not WithAutoBucket: a request for a bucket that does not exist gets
	// NoSuchBucket, as on AWS. Content-MD5 is checked when sent.
	s.s3 = gofakes3.New(s.backend, gofakes3.WithIntegrityCheck(true)).Server()
	for _, b := range o.Buckets {
		if err := s.CreateBucket(b); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return s, nil
}

// CreateBucket creates a bucket unless it exists, versioned where the
// backend keeps versions (as the SAM template's bucket is).
func (s *Server) CreateBucket(name string) error {
	exists, err := s.backend.BucketExists(name)
	if err != nil {
		return fmt.Errorf("s3local: bucket %s: %w", name, err)
	}
	if !exists {
		if err := s.backend.CreateBucket(name); err != nil {
			return fmt.Errorf("s3local: create bucket %s: %w", name, err)
		}
	}
	if s.versioned != nil {
		if err := s.versioned.SetVersioningConfiguration(name, gofakes3.VersioningConfiguration{Status: gofakes3.VersioningEnabled}); err != nil {
			return fmt.Errorf("s3local: versioning on %s: %w", name, err)
		}
	}
	return nil
}

// Close closes the backend's file.
func (s *Server) Close() error { return s.close() }

// IsRequest reports whether r is for S3: signed for the service "s3", or
// unsigned and addressed to one of its buckets (which ServeHTTP then
// refuses, as S3 refuses anonymous access to a private bucket). Only
// headers and the path are read.
func (s *Server) IsRequest(r *http.Request) bool {
	if service, signed := awslocal.SignedService(r); signed {
		return service == "s3"
	}
	if r.Header.Get("Authorization") != "" || r.Header.Get("X-Amz-Target") != "" {
		return false // some other scheme or API; not ours to claim
	}
	bucket, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if bucket == "" {
		return false
	}
	exists, err := s.backend.BucketExists(bucket)
	return err == nil && exists
}

// ServeHTTP answers an S3 request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Header.Get("Origin") != "":
		// A page in a browser: otp-local's pages never call S3, and a page
		// from anywhere else must not read or publish templates.
		accessDenied(w, r, "otp-local's S3 does not answer browser pages.")
		return
	case !signed(r):
		accessDenied(w, r, "Access Denied")
		return
	}
	s.s3.ServeHTTP(w, r)
}

func signed(r *http.Request) bool {
	_, ok := awslocal.SignedService(r)
	return ok
}

// errorResponse is S3's REST error document.
type errorResponse struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
}

func accessDenied(w http.ResponseWriter, r *http.Request, msg string) {
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-amz-request-id", strings.ToUpper(hex.EncodeToString(id)))
	w.WriteHeader(http.StatusForbidden)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(errorResponse{Code: "AccessDenied", Message: msg, RequestID: strings.ToUpper(hex.EncodeToString(id))})
}
