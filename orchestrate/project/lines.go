package project

import (
	"strings"
)

// lineOf returns the 1-based line of byte offset off in s.
func lineOf(s string, off int) int {
	return strings.Count(s[:off], "\n") + 1
}

// findCallLine returns the line of the first fn('...', 'name') call (such
// as ref('orders') or ref('pkg', 'orders')) naming name, falling back to
// the first quoted occurrence of name, then to line 1.
func findCallLine(raw, fn, name string) int {
	for i := 0; ; {
		j := strings.Index(raw[i:], fn)
		if j < 0 {
			break
		}
		at := i + j
		i = at + len(fn)
		if at > 0 && isIdentByte(raw[at-1]) {
			continue
		}
		args, ok := quotedArgs(raw[i:], 2)
		if !ok || len(args) == 0 {
			continue
		}
		if args[len(args)-1] == name {
			return lineOf(raw, at)
		}
	}
	return quotedLine(raw, name)
}

// findSourceLine returns the line of the first source('src', 'tbl') call.
func findSourceLine(raw, src, tbl string) int {
	for i := 0; ; {
		j := strings.Index(raw[i:], "source")
		if j < 0 {
			break
		}
		at := i + j
		i = at + len("source")
		if at > 0 && isIdentByte(raw[at-1]) {
			continue
		}
		args, ok := quotedArgs(raw[i:], 2)
		if ok && len(args) == 2 && args[0] == src && args[1] == tbl {
			return lineOf(raw, at)
		}
	}
	return quotedLine(raw, tbl)
}

func quotedLine(raw, name string) int {
	for _, q := range []string{"'" + name + "'", `"` + name + `"`} {
		if k := strings.Index(raw, q); k >= 0 {
			return lineOf(raw, k)
		}
	}
	return 1
}

func isIdentByte(b byte) bool {
	return b == '_' || b == '.' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// quotedArgs parses `( 'a' , "b"` at the start of s: up to max leading
// string-literal arguments.
func quotedArgs(s string, max int) ([]string, bool) {
	k := skipSpace(s, 0)
	if k >= len(s) || s[k] != '(' {
		return nil, false
	}
	k++
	var out []string
	for len(out) < max {
		k = skipSpace(s, k)
		if k >= len(s) || (s[k] != '\'' && s[k] != '"') {
			break
		}
		q := s[k]
		end := strings.IndexByte(s[k+1:], q)
		if end < 0 {
			return nil, false
		}
		out = append(out, s[k+1:k+1+end])
		k = skipSpace(s, k+2+end)
		if k >= len(s) || s[k] != ',' {
			break
		}
		k++
	}
	return out, true
}

func skipSpace(s string, k int) int {
	for k < len(s) && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r') {
		k++
	}
	return k
}

// lineIndex maps trimmed raw lines to their line number when unique.
type lineIndex struct {
	n      int
	unique map[string]int // trimmed text -> line, or -1 if repeated
}

func newLineIndex(raw string) *lineIndex {
	lines := strings.Split(raw, "\n")
	li := &lineIndex{n: len(lines), unique: make(map[string]int, len(lines))}
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if _, seen := li.unique[t]; seen {
			li.unique[t] = -1
		} else {
			li.unique[t] = i + 1
		}
	}
	return li
}

// source maps a line of rendered text (its number and text) back to the
// raw file: the raw line with the same trimmed text if it is unique, else
// the same line number clamped to the file.
func (li *lineIndex) source(bodyLine int, text string) int {
	if t := strings.TrimSpace(text); t != "" {
		if l, ok := li.unique[t]; ok && l > 0 {
			return l
		}
	}
	if bodyLine > li.n {
		return li.n
	}
	if bodyLine < 1 {
		return 1
	}
	return bodyLine
}
