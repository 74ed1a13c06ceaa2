package seslocal

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"sort"
	"strings"

	"golang.org/x/text/encoding/htmlindex"
)

// rawMessage is what the outbox keeps of a Content.Raw email.
type rawMessage struct {
	from, subject string
	to, cc, bcc   []string
	replyTo       []string
	headers       []Header
	html, text    string
	attachments   []Attachment
}

// maxMIMEDepth bounds multipart nesting; real emails nest two or three deep.
const maxMIMEDepth = 10

var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// charsetReader converts any charset the WHATWG encoding index knows
// (ISO-8859-x, windows-125x, Shift_JIS, ...) to UTF-8.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, fmt.Errorf("unknown charset %q: %w", charset, err)
	}
	return enc.NewDecoder().Reader(input), nil
}

// parseRaw extracts headers, the first text/plain and text/html parts and
// the attachments of a MIME message, as SES would see them.
func parseRaw(data []byte) (rawMessage, error) {
	var r rawMessage
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return r, fmt.Errorf("not an RFC 5322 message: %w", err)
	}
	for name, values := range msg.Header {
		for _, v := range values {
			if dec, err := wordDecoder.DecodeHeader(v); err == nil {
				v = dec
			}
			r.headers = append(r.headers, Header{Name: name, Value: v})
		}
	}
	sortHeaders(r.headers)
	r.subject, _ = wordDecoder.DecodeHeader(msg.Header.Get("Subject"))
	r.from, _ = wordDecoder.DecodeHeader(msg.Header.Get("From"))
	if from, err := msg.Header.AddressList("From"); err == nil && len(from) > 0 {
		r.from = formatAddress(from[0])
	}
	for _, h := range []struct {
		name string
		dst  *[]string
	}{{"To", &r.to}, {"Cc", &r.cc}, {"Bcc", &r.bcc}, {"Reply-To", &r.replyTo}} {
		if msg.Header.Get(h.name) == "" {
			continue
		}
		list, err := msg.Header.AddressList(h.name)
		if err != nil {
			return r, fmt.Errorf("header %s: %w", h.name, err)
		}
		for _, a := range list {
			*h.dst = append(*h.dst, formatAddress(a))
		}
	}
	err = r.walk(mimeHeader(msg.Header), msg.Body, 0)
	return r, err
}

// formatAddress writes an address as people type it ("Name <addr>"), with
// the name decoded; mail.Address.String would re-encode non-ASCII names.
func formatAddress(a *mail.Address) string {
	if a.Name == "" {
		return a.Address
	}
	return a.Name + " <" + a.Address + ">"
}

type mimeHeader interface{ Get(string) string }

func (r *rawMessage) walk(h mimeHeader, body io.Reader, depth int) error {
	if depth > maxMIMEDepth {
		return fmt.Errorf("MIME parts nested deeper than %d", maxMIMEDepth)
	}
	ctype := h.Get("Content-Type")
	if ctype == "" {
		ctype = "text/plain; charset=us-ascii"
	}
	mediaType, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return fmt.Errorf("Content-Type %q: %w", ctype, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s part: %w", mediaType, err)
			}
			if err := r.walk(part.Header, part, depth+1); err != nil {
				return err
			}
		}
	}
	content, err := decodeTransfer(h.Get("Content-Transfer-Encoding"), body)
	if err != nil {
		return err
	}
	disposition, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	if disposition == "attachment" || (!strings.HasPrefix(mediaType, "text/") && mediaType != "message/rfc822") {
		name := dparams["filename"]
		if name == "" {
			name = params["name"]
		}
		r.attachments = append(r.attachments, Attachment{FileName: name, ContentType: mediaType, Size: len(content)})
		return nil
	}
	text := string(content)
	if cs := params["charset"]; cs != "" && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		if rd, err := charsetReader(cs, bytes.NewReader(content)); err == nil {
			if b, err := io.ReadAll(rd); err == nil {
				text = string(b)
			}
		}
	}
	switch {
	case mediaType == "text/html" && r.html == "":
		r.html = text
	case mediaType == "text/plain" && r.text == "":
		r.text = text
	}
	return nil
}

func decodeTransfer(cte string, body io.Reader) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		b, err := io.ReadAll(quotedprintable.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("quoted-printable part: %w", err)
		}
		return b, nil
	case "base64":
		b, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, &newlineStripper{r: body}))
		if err != nil {
			return nil, fmt.Errorf("base64 part: %w", err)
		}
		return b, nil
	default: // 7bit, 8bit, binary
		b, err := io.ReadAll(body)
		if err != nil {
			return nil, fmt.Errorf("read part: %w", err)
		}
		return b, nil
	}
}

// newlineStripper drops line breaks and the stray spaces some mailers leave
// at line ends, which base64.NewDecoder would reject.
type newlineStripper struct{ r io.Reader }

func (n *newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// sortHeaders orders headers by name: net/mail keeps them in a map, and the
// page and the JSON should not change from one load to the next.
func sortHeaders(h []Header) {
	sort.SliceStable(h, func(i, j int) bool { return h[i].Name < h[j].Name })
}
