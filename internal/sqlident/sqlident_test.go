package sqlident

import "testing"

func TestSplitQualified(t *testing.T) {
	for _, tc := range []struct{ schema, name string }{
		{"marts", "mart_daily_sales"}, {`we"ird`, `a.b "c"`}, {"", "x"},
	} {
		s, n, ok := SplitQualified(QuoteQualified(tc.schema, tc.name))
		if tc.schema == "" {
			if ok {
				t.Errorf("one part parsed as two: %q %q", s, n)
			}
			continue
		}
		if !ok || s != tc.schema || n != tc.name {
			t.Errorf("SplitQualified(%q) = %q, %q, %v", QuoteQualified(tc.schema, tc.name), s, n, ok)
		}
	}
	for _, bad := range []string{"", "a.b", `"a".`, `"a"x"b"`, `"a"."b`, `"a"."b"."c"`} {
		if _, _, ok := SplitQualified(bad); ok {
			t.Errorf("SplitQualified(%q) accepted", bad)
		}
	}
}
