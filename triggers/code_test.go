package triggers

import (
	"bytes"
	"crypto/rand"
	"io"
	"strings"
	"testing"
)

// chiSquareCritical is the chi-square value with 9 degrees of freedom that a
// uniform source exceeds with probability 2.6e-7, so a correct generator
// fails this test about once in four million runs per position.
const chiSquareCritical = 48.0

// digitChiSquares returns, for each position, the chi-square statistic of
// the digit counts against a uniform distribution.
func digitChiSquares(t *testing.T, gen func() string, samples, length int) []float64 {
	t.Helper()
	counts := make([][10]int, length)
	for range samples {
		code := gen()
		if len(code) != length {
			t.Fatalf("code %q has %d digits, want %d", code, len(code), length)
		}
		for pos := range length {
			counts[pos][code[pos]-'0']++
		}
	}
	expected := float64(samples) / 10
	stats := make([]float64, length)
	for pos := range length {
		for _, c := range counts[pos] {
			d := float64(c) - expected
			stats[pos] += d * d / expected
		}
	}
	return stats
}

// biasedCode is the mistake the generator must not make: a byte reduced
// modulo 10 favours 0-5 by 26 to 25.
func biasedCode(random io.Reader, n int) string {
	b := make([]byte, n)
	_, _ = io.ReadFull(random, b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}

func TestCodesAreUniformOverDigitsAndPositions(t *testing.T) {
	if testing.Short() {
		t.Skip("statistical test")
	}
	const samples, length = 300_000, 6
	stats := digitChiSquares(t, func() string {
		c, err := newCode(rand.Reader, length)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}, samples, length)
	for pos, x := range stats {
		if x > chiSquareCritical {
			t.Errorf("position %d: chi-square %.1f > %.1f: digits are not uniform", pos, x, chiSquareCritical)
		}
	}

	// The same test must catch modulo bias, or it proves nothing.
	biased := digitChiSquares(t, func() string { return biasedCode(rand.Reader, length) }, samples, length)
	for pos, x := range biased {
		if x <= chiSquareCritical {
			t.Errorf("position %d: the test did not detect modulo bias (chi-square %.1f)", pos, x)
		}
	}
}

func TestNewCodeDiscardsBytesAbove249(t *testing.T) {
	// 250..255 would map to 0..5 under a plain modulo; they must be skipped.
	src := bytes.NewReader(append(bytes.Repeat([]byte{255, 250}, 4), 3, 14, 25, 36, 47, 58, 0, 0, 0, 0, 0, 0, 0, 0))
	got, err := newCode(src, 6)
	if err != nil {
		t.Fatal(err)
	}
	if got != "345678" {
		t.Errorf("got %q, want 345678", got)
	}
}

func TestNewCodeReportsAShortRandomSource(t *testing.T) {
	if _, err := newCode(strings.NewReader("12"), 6); err == nil {
		t.Error("want an error when the random source runs dry")
	}
}

func TestNormalizeAnswer(t *testing.T) {
	tests := []struct {
		name, in string
		length   int
		want     string
		ok       bool
	}{
		{"plain", "123456", 6, "123456", true},
		{"surrounding spaces", "  123456\t", 6, "123456", true},
		{"grouped with a space", "123 456", 6, "123456", true},
		{"no-break space", "123\u00a0456", 6, "123456", true},
		{"full-width digits", "１２３４５６", 6, "123456", true},
		{"arabic-indic digits", "١٢٣٤٥٦", 6, "123456", true},
		{"persian digits", "۱۲۳۴۵۶", 6, "123456", true},
		{"too short", "12345", 6, "", false},
		{"too long", "1234567", 6, "", false},
		{"letters", "12a456", 6, "", false},
		{"hyphen", "123-456", 6, "", false},
		{"empty", "", 6, "", false},
		{"unsupported digit script", "\u0be7\u0be8\u0be9\u0bea\u0beb\u0bec", 6, "", false},
		{"huge input", strings.Repeat("1", 10_000), 6, "", false},
		{"ten digits", "0123456789", 10, "0123456789", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := normalizeAnswer(tc.in, tc.length)
			if got != tc.want || ok != tc.ok {
				t.Errorf("normalizeAnswer(%q, %d) = %q, %v; want %q, %v", tc.in, tc.length, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestMACBindsTheChallenge(t *testing.T) {
	const sub = "7f3e2a10-5c4b-4d21-9e8f-0a1b2c3d4e5f"
	a := codeMAC(testKey, "AAAAAAAAAAAAAAAAAAAAAA", sub, "123456")
	if bytes.Equal(a, codeMAC(testKey, "AAAAAAAAAAAAAAAAAAAAAA", "8e1f0b3c-0000-4d21-9e8f-0a1b2c3d4e5f", "123456")) {
		t.Error("the MAC does not bind the user")
	}
	// The length prefix keeps sub and code apart: ("ab", "1234567") is not ("ab1", "234567").
	if bytes.Equal(codeMAC(testKey, "AAAAAAAAAAAAAAAAAAAAAA", "ab", "1234567"), codeMAC(testKey, "AAAAAAAAAAAAAAAAAAAAAA", "ab1", "234567")) {
		t.Error("sub and code are ambiguous in the MAC")
	}
	if bytes.Equal(a, codeMAC(testKey, "BAAAAAAAAAAAAAAAAAAAAA", sub, "123456")) {
		t.Error("the same code under another challenge id has the same MAC")
	}
	if bytes.Equal(a, codeMAC([]byte("another-key-0123456789abcdef012345"), "AAAAAAAAAAAAAAAAAAAAAA", sub, "123456")) {
		t.Error("another key gives the same MAC")
	}
}
