package sqslocal

import "testing"

func strVal(s string) *string { return &s }

// The expected digest was computed by SQS itself: it comes from a real
// Lambda SQS event (region ap-south-1) published with its attributes, body
// "Sample content." and md5OfBody b58e1d0a86521415d25b85b89f6ad6cd.
func TestMD5OfAttributesMatchesSQS(t *testing.T) {
	tests := []struct {
		name  string
		attrs map[string]attributeValue
		want  string
	}{
		{
			name:  "one string attribute",
			attrs: map[string]attributeValue{"sample-attribute": {DataType: "String", StringValue: strVal("sample-value")}},
			want:  "7c815262be77a62f56671125069ca888",
		},
		{
			name:  "no attributes gives no digest",
			attrs: nil,
			want:  "",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := md5OfAttributes(tc.attrs); got != tc.want {
				t.Errorf("md5OfAttributes = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMD5OfAttributesDependsOnEveryPart(t *testing.T) {
	base := map[string]attributeValue{
		"a": {DataType: "String", StringValue: strVal("x")},
		"b": {DataType: "Binary", BinaryValue: []byte{1, 2}},
	}
	variants := map[string]map[string]attributeValue{
		"value changed":     {"a": {DataType: "String", StringValue: strVal("y")}, "b": base["b"]},
		"type changed":      {"a": {DataType: "String.custom", StringValue: strVal("x")}, "b": base["b"]},
		"binary changed":    {"a": base["a"], "b": {DataType: "Binary", BinaryValue: []byte{1, 3}}},
		"name changed":      {"c": base["a"], "b": base["b"]},
		"attribute dropped": {"a": base["a"]},
	}
	want := md5OfAttributes(base)
	for name, attrs := range variants {
		t.Run(name, func(t *testing.T) {
			if got := md5OfAttributes(attrs); got == want {
				t.Errorf("digest %s did not change", got)
			}
		})
	}
}

func TestMD5OfBody(t *testing.T) {
	// The same real event as TestMD5OfAttributesMatchesSQS.
	if got, want := md5Hex("Sample content."), "b58e1d0a86521415d25b85b89f6ad6cd"; got != want {
		t.Errorf("md5Hex = %s, want %s", got, want)
	}
}
