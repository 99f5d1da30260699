package anonymize

import (
	"encoding/base32"
	"encoding/binary"
	"strings"
)

// A maskFunc turns one non-NULL value into its replacement using the
// keyed PRF state st. It must be deterministic in (key, v).
type maskFunc func(st *prfState, buf []byte, v string) string

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// digest returns the MAC of domain || 0 || v.
func digest(st *prfState, buf []byte, domain, v string) []byte {
	buf = append(buf[:0], domain...)
	buf = append(buf, 0)
	buf = append(buf, v...)
	return st.mac(buf)
}

// pseudoString is the keyed pseudonym of a string: 128 bits of
// HMAC-SHA-256, base32 (26 characters). The same value gives the same
// pseudonym in every table and run with the same key.
func pseudoString(st *prfState, buf []byte, v string) string {
	var out [26]byte
	return string(pseudoInto(&out, st, buf, v))
}

// pseudoInto writes the pseudonym of v into out (no allocation).
func pseudoInto(out *[26]byte, st *prfState, buf []byte, v string) []byte {
	d := digest(st, buf, "pseudo", v)
	b32.Encode(out[:], d[:16])
	return out[:]
}

// digitStream yields pseudorandom decimal digits from a digest.
type digitStream struct {
	d []byte
	i int
}

func (s *digitStream) next(n int) int {
	v := int(s.d[s.i%len(s.d)])
	s.i++
	return v % n // 256 % 10 bias is irrelevant for masking
}

// publicEmailDomains are mail providers whose name says nothing about the
// person; other domains are replaced.
var publicEmailDomains = map[string]bool{
	"gmail.com": true, "yahoo.com": true, "yahoo.co.in": true, "outlook.com": true, "hotmail.com": true,
	"rediffmail.com": true, "icloud.com": true, "protonmail.com": true, "live.com": true, "ymail.com": true,
}

// maskEmail keeps the shape local@domain: the local part becomes a
// pseudonym (same case style), public provider domains are kept, others
// become example.in.
func maskEmail(st *prfState, buf []byte, v string) string {
	at := strings.LastIndexByte(v, '@')
	if at < 0 {
		return pseudoString(st, buf, v)[:12] + "@example.in"
	}
	local, domain := v[:at], v[at+1:]
	d := digest(st, buf, "email", strings.ToLower(local)+"@"+strings.ToLower(domain))
	var enc [16]byte
	b32.Encode(enc[:], d[:10])
	name := "user." + string(enc[:12])
	if local != "" && strings.ToUpper(local) == local && strings.ToLower(local) != local {
		name = strings.ToUpper(name)
	}
	if !publicEmailDomains[strings.ToLower(domain)] {
		domain = "example.in"
	}
	return name + "@" + domain
}

// digitsOf returns the decimal digits of v.
func digitsOf(v string) []byte {
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] >= '0' && v[i] <= '9' {
			out = append(out, v[i])
		}
	}
	return out
}

// refill writes digits into the digit positions of v from the right,
// keeping every other character (spaces, +, -), so the layout survives.
func refill(v string, digits []byte) string {
	b := []byte(v)
	j := len(digits) - 1
	for i := len(b) - 1; i >= 0 && j >= 0; i-- {
		if b[i] >= '0' && b[i] <= '9' {
			b[i] = digits[j]
			j--
		}
	}
	return string(b)
}

// maskMobile replaces an Indian mobile number's 10 national digits (first
// digit 6-9) and keeps its layout ("+91 98765 43210" stays "+91 ddddd
// ddddd"). The pseudonym depends only on the 10 digits, so differently
// formatted copies of a number still match.
func maskMobile(st *prfState, buf []byte, v string) string {
	all := digitsOf(v)
	if len(all) < 10 {
		return refill(v, fakeDigits(st, buf, "mobile", string(all), len(all)))
	}
	national := string(all[len(all)-10:])
	s := digitStream{d: digest(st, buf, "mobile", national)}
	out := make([]byte, 10)
	out[0] = byte('6' + s.next(4))
	for i := 1; i < 10; i++ {
		out[i] = byte('0' + s.next(10))
	}
	return refill(v, out)
}

func fakeDigits(st *prfState, buf []byte, domain, v string, n int) []byte {
	s := digitStream{d: digest(st, buf, domain, v)}
	out := make([]byte, n)
	for i := range out {
		out[i] = byte('0' + s.next(10))
	}
	return out
}

// maskPAN keeps the PAN shape AAAAA9999A and its 4th character (the
// holder type: P person, C company, ...).
func maskPAN(st *prfState, buf []byte, v string) string {
	u := strings.ToUpper(strings.TrimSpace(v))
	s := digitStream{d: digest(st, buf, "pan", u)}
	out := make([]byte, 10)
	for i := range out {
		switch {
		case i < 5 || i == 9:
			out[i] = byte('A' + s.next(26))
		default:
			out[i] = byte('0' + s.next(10))
		}
	}
	if len(u) == 10 {
		out[3] = u[3]
	}
	return string(out)
}

// Verhoeff tables (Aadhaar's check digit).
var (
	vD   = [10][10]byte{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5}, {2, 3, 4, 0, 1, 7, 8, 9, 5, 6}, {3, 4, 0, 1, 2, 8, 9, 5, 6, 7}, {4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1}, {6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3}, {8, 7, 6, 5, 9, 3, 2, 1, 0, 4}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}}
	vP   = [8][10]byte{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4}, {5, 8, 0, 3, 7, 9, 6, 1, 4, 2}, {8, 9, 1, 6, 0, 4, 3, 5, 2, 7}, {9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1}, {2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8}}
	vInv = [10]byte{0, 4, 3, 2, 1, 5, 6, 7, 8, 9}
)

// verhoeffCheck returns the check digit for digits (ASCII).
func verhoeffCheck(digits []byte) byte {
	var c byte
	for i := range digits {
		d := digits[len(digits)-1-i] - '0'
		c = vD[c][vP[(i+1)%8][d]]
	}
	return '0' + vInv[c]
}

// verhoeffValid reports whether digits end in a valid check digit.
func verhoeffValid(digits []byte) bool {
	var c byte
	for i := range digits {
		d := digits[len(digits)-1-i] - '0'
		c = vD[c][vP[i%8][d]]
	}
	return c == 0
}

// maskAadhaar gives a 12-digit number (first digit 2-9, Verhoeff check
// digit valid) in the original layout.
func maskAadhaar(st *prfState, buf []byte, v string) string {
	all := digitsOf(v)
	s := digitStream{d: digest(st, buf, "aadhaar", string(all))}
	out := make([]byte, 12)
	out[0] = byte('2' + s.next(8))
	for i := 1; i < 11; i++ {
		out[i] = byte('0' + s.next(10))
	}
	out[11] = verhoeffCheck(out[:11])
	if len(all) != 12 {
		return string(out)
	}
	return refill(v, out)
}

const gstinChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// gstinCheck computes the GSTIN checksum character of the first 14.
func gstinCheck(s string) byte {
	sum := 0
	for i := 0; i < 14; i++ {
		c := strings.IndexByte(gstinChars, s[i])
		if c < 0 {
			c = 0
		}
		f := 1
		if i%2 == 1 {
			f = 2
		}
		p := c * f
		sum += p/36 + p%36
	}
	return gstinChars[(36-sum%36)%36]
}

// maskGSTIN keeps the state code (first 2 digits), replaces the embedded
// PAN and the entity number, and recomputes the checksum.
func maskGSTIN(st *prfState, buf []byte, v string) string {
	u := strings.ToUpper(strings.TrimSpace(v))
	state := "27"
	pan := "AAAAA0000A"
	if len(u) == 15 {
		state = u[:2]
		pan = u[2:12]
	}
	p := maskPAN(st, buf, pan)
	s := digitStream{d: digest(st, buf, "gstin", u)}
	ent := gstinChars[1+s.next(9)]
	g := state + p + string(ent) + "Z"
	return g + string(gstinCheck(g))
}

// maskPIN keeps the first 3 digits of a 6-digit PIN code (the sorting
// district) and replaces the last 3.
func maskPIN(st *prfState, buf []byte, v string) string {
	all := digitsOf(v)
	if len(all) != 6 {
		return refill(v, fakeDigits(st, buf, "pin", string(all), len(all)))
	}
	d := fakeDigits(st, buf, "pin", string(all), 3)
	out := append(all[:3:3], d...)
	return refill(v, out)
}

// maskUPI replaces the handle of a UPI id and keeps the PSP suffix
// (name@okaxis → u<pseudonym>@okaxis).
func maskUPI(st *prfState, buf []byte, v string) string {
	at := strings.LastIndexByte(v, '@')
	psp := "upi"
	if at >= 0 {
		psp = v[at+1:]
	}
	d := digest(st, buf, "upi", strings.ToLower(v))
	var enc [16]byte
	b32.Encode(enc[:], d[:10])
	return "u" + string(enc[:11]) + "@" + psp
}

// maskCard keeps the layout and the last 4 digits of a card number,
// replaces the others (keeping the first, the network) and fixes one
// digit so the Luhn check still passes.
func maskCard(st *prfState, buf []byte, v string) string {
	all := digitsOf(v)
	n := len(all)
	if n < 8 {
		return refill(v, fakeDigits(st, buf, "card", string(all), n))
	}
	d := fakeDigits(st, buf, "card", string(all), n)
	d[0] = all[0]
	copy(d[n-4:], all[n-4:])
	// choose digit n-5 so that the Luhn sum is 0 mod 10
	for c := byte('0'); c <= '9'; c++ {
		d[n-5] = c
		if luhnValid(d) {
			break
		}
	}
	return refill(v, d)
}

func luhnValid(d []byte) bool {
	sum := 0
	for i := range d {
		x := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			x *= 2
			if x > 9 {
				x -= 9
			}
		}
		sum += x
	}
	return sum%10 == 0
}

func pick(d []byte, off int, list []string) string {
	return list[binary.BigEndian.Uint32(d[off:off+4])%uint32(len(list))]
}

func fakeFirstName(st *prfState, buf []byte, v string) string {
	return pick(digest(st, buf, "first", strings.ToLower(v)), 0, FirstNames)
}

func fakeLastName(st *prfState, buf []byte, v string) string {
	return pick(digest(st, buf, "last", strings.ToLower(v)), 0, LastNames)
}

func fakeFullName(st *prfState, buf []byte, v string) string {
	d := digest(st, buf, "name", strings.ToLower(v))
	return pick(d, 0, FirstNames) + " " + pick(d, 4, LastNames)
}

func fakeCity(st *prfState, buf []byte, v string) string {
	return pick(digest(st, buf, "city", strings.ToLower(v)), 0, Cities)
}

func fakeAddress(st *prfState, buf []byte, v string) string {
	d := digest(st, buf, "address", strings.ToLower(v))
	house := 1 + binary.BigEndian.Uint16(d[12:14])%400
	return itoa(int(house)) + ", " + pick(d, 0, streets) + ", " + pick(d, 4, localities) + ", " + pick(d, 8, Cities)
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	p := len(b)
	for i > 0 {
		p--
		b[p] = byte('0' + i%10)
		i /= 10
	}
	return string(b[p:])
}
