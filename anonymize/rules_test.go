package anonymize

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFeistelIsASignKeepingPermutation(t *testing.T) {
	f := feistel{p: newPRF(testKey, "int")}
	seen := map[int64]bool{}
	for v := int64(-128); v < 128; v++ {
		y := f.pseudoInt(v, 8)
		require.True(t, y >= -128 && y < 128, "%d → %d out of int8", v, y)
		require.Equal(t, v < 0, y < 0, "sign of %d", v)
		require.False(t, seen[y], "collision at %d", v)
		seen[y] = true
	}
	for _, bits := range []uint{16, 31, 32, 63} {
		for _, x := range []uint64{0, 1, 2, 12345, mask(bits)} {
			y := f.permute(x, bits)
			require.LessOrEqual(t, y, mask(bits))
			require.Equal(t, x, f.inverse(y, bits), "bits %d x %d", bits, x)
		}
	}
	// Another key gives another permutation.
	g := feistel{p: newPRF([]byte("another-key-0123456789abcdef"), "int")}
	assert.NotEqual(t, f.pseudoInt(42, 64), g.pseudoInt(42, 64))
}

func TestMasksKeepFormatsAndAreDeterministic(t *testing.T) {
	p := newPRF(testKey, "mask")
	st := p.get()
	defer p.put(st)
	cases := []struct {
		fn   maskFunc
		in   string
		want string
	}{
		{maskEmail, "Asha.Rao@gmail.com", `^user\.[a-z2-7]{12}@gmail\.com$`},
		{maskEmail, "ASHA@RAO.IN", `^USER\.[A-Z2-7]{12}@example\.in$`},
		{maskMobile, "+91 98765 43210", `^\+91 [6-9]\d{4} \d{5}$`},
		{maskMobile, "9876543210", `^[6-9]\d{9}$`},
		{maskPAN, "ABCPK1234Q", `^[A-Z]{3}P[A-Z]\d{4}[A-Z]$`},
		{maskPAN, "AAACV1234F", `^[A-Z]{3}C[A-Z]\d{4}[A-Z]$`},
		{maskAadhaar, "2345-6789-0123", `^[2-9]\d{3}-\d{4}-\d{4}$`},
		{maskGSTIN, "29ABCDE1234F1Z5", `^29[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]$`},
		{maskPIN, "560034", `^560\d{3}$`},
		{maskUPI, "asha.rao@okicici", `^u[a-z2-7]{11}@okicici$`},
		{maskCard, "5105-1051-0510-5100", `^5\d{3}-\d{4}-\d{4}-5100$`},
		{fakeFirstName, "Asha", `^[A-Z][a-z]+$`},
		{fakeFullName, "Asha Rao", `^[A-Z][a-z]+ [A-Z][a-z]+$`},
		{fakeAddress, "12 MG Road, Pune", `^\d+, [A-Za-z ]+, [A-Za-z0-9 ]+, [A-Za-z]+$`},
		{pseudoString, "CUST-0001", `^[a-z2-7]{26}$`},
	}
	for _, c := range cases {
		got := c.fn(st, nil, c.in)
		assert.Regexp(t, regexp.MustCompile(c.want), got, c.in)
		assert.Equal(t, got, c.fn(st, make([]byte, 0, 4), c.in), "deterministic: %s", c.in)
		assert.NotEqual(t, c.in, got)
	}
	// Mobile pseudonyms depend on the number, not its layout.
	a, b := maskMobile(st, nil, "+91 98765 43210"), maskMobile(st, nil, "+919876543210")
	assert.Equal(t, digitsOf(a), digitsOf(b))
	assert.True(t, verhoeffValid(digitsOf(maskAadhaar(st, nil, "2345 6789 0123"))))
	assert.True(t, luhnValid(digitsOf(maskCard(st, nil, "4111 1111 1111 1111"))))
	g := maskGSTIN(st, nil, "29ABCDE1234F1Z5")
	assert.Equal(t, string(gstinCheck(g)), g[14:])
	// A known-valid GSTIN's checksum agrees with the published algorithm.
	assert.Equal(t, "V", string(gstinCheck("27AAPFU0939F1ZV")))
	// Another key, other values.
	q := newPRF([]byte("another-key-0123456789abcdef"), "mask")
	st2 := q.get()
	assert.NotEqual(t, maskEmail(st, nil, "a@gmail.com"), maskEmail(st2, nil, "a@gmail.com"))
}
