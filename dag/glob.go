package dag

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// pattern is a selector value: a literal or an fnmatch-style glob with
// '*' (any run of characters), '?' (one character) and '[...]' classes
// ('[!...]' or '[^...]' negate, 'a-z' ranges).
type pattern struct {
	raw    string
	glob   bool
	prefix string // the literal text before the first meta character
}

func hasGlobMeta(s string) bool { return strings.ContainsAny(s, "*?[") }

// compilePattern checks raw and returns its pattern.
func compilePattern(raw string) (pattern, error) {
	if !hasGlobMeta(raw) {
		return pattern{raw: raw}, nil
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '[' {
			continue
		}
		end, ok := classEnd(raw, i)
		if !ok {
			return pattern{}, errors.New("unterminated '['")
		}
		i = end - 1
	}
	return pattern{raw: raw, glob: true, prefix: raw[:strings.IndexAny(raw, "*?[")]}, nil
}

// match reports whether s matches the whole pattern.
func (p pattern) match(s string) bool {
	if !p.glob {
		return p.raw == s
	}
	return strings.HasPrefix(s, p.prefix) && fnmatch(p.raw, s)
}

// classEnd returns the index just past the ']' closing the class that starts
// at p[i] == '['.
func classEnd(p string, i int) (int, bool) {
	j := i + 1
	if j < len(p) && (p[j] == '!' || p[j] == '^') {
		j++
	}
	if j < len(p) && p[j] == ']' { // a leading ']' is literal
		j++
	}
	for ; j < len(p); j++ {
		if p[j] == ']' {
			return j + 1, true
		}
	}
	return 0, false
}

// matchClass reports whether r is in the class p[i:end].
func matchClass(p string, i, end int, r rune) bool {
	j := i + 1
	negate := false
	if p[j] == '!' || p[j] == '^' {
		negate = true
		j++
	}
	in := false
	for j < end-1 { // p[end-1] is the closing ']'
		lo, w := utf8.DecodeRuneInString(p[j:])
		j += w
		hi := lo
		if j+1 < end-1 && p[j] == '-' {
			hi, w = utf8.DecodeRuneInString(p[j+1:])
			j += 1 + w
		}
		if lo <= r && r <= hi {
			in = true
		}
	}
	return in != negate
}

// fnmatch matches s against the glob p (which must be valid), '*' matching
// any run of characters including '/'.
func fnmatch(p, s string) bool {
	px, sx := 0, 0
	starPx, starSx := -1, 0
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			switch c := p[px]; c {
			case '*':
				starPx, starSx = px, sx
				px++
				continue
			case '?':
				if sx < len(s) {
					_, w := utf8.DecodeRuneInString(s[sx:])
					px++
					sx += w
					continue
				}
			case '[':
				if sx < len(s) {
					end, _ := classEnd(p, px)
					r, w := utf8.DecodeRuneInString(s[sx:])
					if matchClass(p, px, end, r) {
						px = end
						sx += w
						continue
					}
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if starPx >= 0 && starSx < len(s) {
			_, w := utf8.DecodeRuneInString(s[starSx:])
			starSx += w
			px, sx = starPx+1, starSx
			continue
		}
		return false
	}
	return true
}

// pathGlob is a glob over slash-separated paths: '*', '?' and classes stay
// within one segment, and a "**" segment matches any number of segments.
type pathGlob []string

func compilePathGlob(p string) pathGlob { return strings.Split(p, "/") }

// match reports whether the path s matches g.
func (g pathGlob) match(s string) bool { return matchSegments(g, s, false) }

// matchSegments matches the segments p against the segments of s; end
// means s has no segments left (as opposed to one empty segment).
func matchSegments(p []string, s string, end bool) bool {
	for len(p) > 0 {
		if p[0] == "**" {
			for len(p) > 0 && p[0] == "**" {
				p = p[1:]
			}
			if len(p) == 0 {
				return true
			}
			for !end {
				if matchSegments(p, s, false) {
					return true
				}
				i := strings.IndexByte(s, '/')
				if i < 0 {
					return false
				}
				s = s[i+1:]
			}
			return false
		}
		if end {
			return false
		}
		seg, rest, more := strings.Cut(s, "/")
		if !fnmatch(p[0], seg) {
			return false
		}
		p, s, end = p[1:], rest, !more
	}
	return end
}
