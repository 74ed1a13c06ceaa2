package sqslocal

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"sort"
	"strings"
)

// md5Hex is the digest SQS returns as MD5OfMessageBody / MD5OfBody.
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// md5OfAttributes digests message attributes the way SQS does for
// MD5OfMessageAttributes and MD5OfMessageSystemAttributes: attributes sorted
// by name, each encoded as
//
//	len(name) name len(dataType) dataType transport len(value) value
//
// with 4-byte big-endian lengths and a transport byte of 1 for string
// values (String and Number types) and 2 for binary values. No attributes
// means no digest (the field is omitted).
func md5OfAttributes(attrs map[string]attributeValue) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	h := md5.New()
	for _, n := range names {
		a := attrs[n]
		writeLenPrefixed(h, []byte(n))
		writeLenPrefixed(h, []byte(a.DataType))
		if isBinaryType(a.DataType) {
			h.Write([]byte{2})
			writeLenPrefixed(h, a.BinaryValue)
		} else {
			h.Write([]byte{1})
			writeLenPrefixed(h, []byte(a.stringValue()))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeLenPrefixed(h hash.Hash, b []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	h.Write(n[:])
	h.Write(b)
}

func isBinaryType(dataType string) bool {
	return dataType == "Binary" || strings.HasPrefix(dataType, "Binary.")
}
