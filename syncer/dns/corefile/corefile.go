package corefile

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/coredns/caddy/caddyfile"

	"github.com/vcdns/vcdns/syncer/dns/hostname"
)

const (
	// BeginMarker starts the managed block; the rest of its line is free text.
	BeginMarker = "# BEGIN vcdns"
	// EndMarker ends the managed block.
	EndMarker = "# END vcdns"

	beginLine = BeginMarker + ": managed by the vcdns syncer, changes between these lines are overwritten"
)

// ErrInvalid is wrapped by the errors about Corefiles that cannot be changed safely.
var ErrInvalid = errors.New("cannot patch Corefile")

// Block is the server block vcdns keeps in a Corefile.
type Block struct {
	// Zone to forward, e.g. "openmcp.cluster".
	Zone string
	// Upstreams are the central DNS addresses, "10.96.0.53" or "10.96.0.53:53".
	Upstreams []string
}

// Patch returns corefile with the vcdns block set to b: rewritten in place when the
// markers are there, appended otherwise. Content outside the markers is kept byte for
// byte. It fails, wrapping ErrInvalid, when b is invalid, corefile does not parse, its
// markers are broken, another server block serves b.Zone on the same port, or the
// result would not parse with the block as a server block of its own.
func Patch(corefile []byte, b Block) ([]byte, error) {
	if err := b.validate(); err != nil {
		return nil, err
	}
	doc, err := split(corefile)
	if err != nil {
		return nil, err
	}
	outside, err := parse(doc.outside())
	if err != nil {
		return nil, fmt.Errorf("%w: the existing Corefile does not parse: %v", ErrInvalid, err)
	}
	port, binds := rootListener(outside)
	zone := strings.ToLower(b.Zone) + "."
	for _, sb := range outside.blocks {
		for _, k := range sb.Keys {
			if z, p, ok := zoneKey(k); ok && z == zone && samePort(p, port) {
				return nil, fmt.Errorf("%w: server block %q already serves %s", ErrInvalid, strings.Join(sb.Keys, " "), zone)
			}
		}
	}
	block := render(b, port, binds, doc.eol)
	out := doc.with(block)
	if err := checkResult(out, zone, port); err != nil {
		return nil, err
	}
	return out, nil
}

// Remove returns corefile without the vcdns block, and without the blank line Patch
// put before it. A Corefile without the block is returned as it is. It fails, wrapping
// ErrInvalid, when the markers are broken or the Corefile outside them does not parse.
func Remove(corefile []byte) ([]byte, error) {
	doc, err := split(corefile)
	if err != nil {
		return nil, err
	}
	if !doc.found {
		return corefile, nil
	}
	out := doc.outside()
	if _, err := parse(out); err != nil {
		return nil, fmt.Errorf("%w: the existing Corefile does not parse: %v", ErrInvalid, err)
	}
	return out, nil
}

func (b Block) validate() error {
	if err := hostname.Validate(strings.ToLower(b.Zone)); err != nil || hostname.IsWildcard(b.Zone) {
		return fmt.Errorf("%w: zone %q is not a domain name", ErrInvalid, b.Zone)
	}
	if len(b.Upstreams) == 0 {
		return fmt.Errorf("%w: no upstream to forward %s to", ErrInvalid, b.Zone)
	}
	for _, u := range b.Upstreams {
		if _, err := netip.ParseAddr(u); err == nil {
			continue
		}
		if ap, err := netip.ParseAddrPort(u); err == nil && ap.Port() != 0 {
			continue
		}
		return fmt.Errorf("%w: upstream %q is neither an IP address nor an IP address and port", ErrInvalid, u)
	}
	return nil
}

// document is a Corefile split around the marked block.
type document struct {
	before, after []byte // content outside the block
	found         bool
	eol           string
}

// split finds the marked block. The lines from BeginMarker to EndMarker (whole
// lines, leading white space allowed) are the block. Lines of a new block end in
// "\r\n" when the Corefile has such line endings, those of an existing block as its
// first line does.
func split(corefile []byte) (document, error) {
	doc := document{eol: "\n"}
	if bytes.Contains(corefile, []byte("\r\n")) {
		doc.eol = "\r\n"
	}
	begin, end := -1, -1 // byte offsets of the begin line and of the end of the end line
	for off := 0; off < len(corefile); {
		n := bytes.IndexByte(corefile[off:], '\n')
		next := len(corefile)
		if n >= 0 {
			next = off + n + 1
		}
		line := strings.TrimSpace(string(corefile[off:next]))
		switch {
		case strings.HasPrefix(line, BeginMarker) && (len(line) == len(BeginMarker) || !isNameChar(line[len(BeginMarker)])):
			if begin >= 0 {
				return doc, fmt.Errorf("%w: the Corefile has more than one %q line", ErrInvalid, BeginMarker)
			}
			begin = off
			// The block keeps the line ending it has.
			if bytes.HasSuffix(corefile[off:next], []byte("\r\n")) {
				doc.eol = "\r\n"
			} else {
				doc.eol = "\n"
			}
		case line == EndMarker:
			if begin < 0 || end >= 0 {
				return doc, fmt.Errorf("%w: the Corefile has a %q line without a %q line before it", ErrInvalid, EndMarker, BeginMarker)
			}
			end = next
		}
		off = next
	}
	if begin >= 0 && end < 0 {
		return doc, fmt.Errorf("%w: the Corefile has a %q line without a %q line after it", ErrInvalid, BeginMarker, EndMarker)
	}
	if begin < 0 {
		doc.before = corefile
		return doc, nil
	}
	doc.found = true
	doc.before, doc.after = corefile[:begin], corefile[end:]
	return doc, nil
}

func isNameChar(c byte) bool {
	return c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// outside returns the Corefile without the block and without the blank line before it
// that Patch adds when it appends the block.
func (d document) outside() []byte {
	if !d.found {
		return d.before
	}
	before := d.before
	if len(d.after) == 0 && bytes.HasSuffix(before, []byte("\n"+d.eol)) {
		before = before[:len(before)-len(d.eol)]
	}
	return slices.Concat(before, d.after)
}

// with returns the Corefile with block in place of the marked block, or appended after
// a blank line.
func (d document) with(block string) []byte {
	if d.found {
		return slices.Concat(d.before, []byte(block), d.after)
	}
	var b bytes.Buffer
	b.Write(d.before)
	if len(d.before) > 0 {
		if !bytes.HasSuffix(d.before, []byte("\n")) {
			b.WriteString(d.eol)
		}
		b.WriteString(d.eol)
	}
	b.WriteString(block)
	return b.Bytes()
}

// render returns the block's text, ending with a line break.
func render(b Block, port string, binds [][]caddyfile.Token, eol string) string {
	var s strings.Builder
	line := func(indent int, text string) {
		s.WriteString(strings.Repeat("    ", indent) + text + eol)
	}
	key := strings.ToLower(b.Zone)
	if port != "" {
		key += ":" + port
	}
	line(0, beginLine)
	line(0, key+" {")
	for _, bind := range binds {
		renderTokens(bind, 1, line)
	}
	line(1, "errors")
	// Names are published when their Gateway or Ingress gets an address; a client that
	// asked a moment earlier must not be told NXDOMAIN for the next 30 s.
	line(1, "cache 30 {")
	line(2, "disable denial")
	line(1, "}")
	ups := make([]string, 0, len(b.Upstreams))
	for _, u := range b.Upstreams {
		if a, err := netip.ParseAddr(u); err == nil {
			ups = append(ups, a.String())
		} else {
			ups = append(ups, netip.MustParseAddrPort(u).String())
		}
	}
	line(1, "forward . "+strings.Join(ups, " "))
	line(0, "}")
	line(0, EndMarker)
	return s.String()
}

// renderTokens writes a directive's tokens, one source line per line, indenting
// nested blocks.
func renderTokens(toks []caddyfile.Token, indent int, line func(int, string)) {
	var cur []string
	curLine := -1
	depth := 0
	flush := func(d int) {
		if len(cur) > 0 {
			line(indent+d, strings.Join(cur, " "))
			cur = nil
		}
	}
	for _, t := range toks {
		if t.Line != curLine {
			flush(depth)
			curLine = t.Line
		}
		text := restoreEnv(t.Text)
		switch text {
		case "{":
			cur = append(cur, text)
			flush(depth)
			depth++
			curLine = -1
			continue
		case "}":
			flush(depth)
			depth--
			cur = append(cur, text)
			flush(depth)
			curLine = -1
			continue
		}
		cur = append(cur, quoteToken(text))
	}
	flush(depth)
}

// quoteToken quotes a token the lexer would otherwise split or misread.
func quoteToken(s string) string {
	if s == "" || s == "{" || s == "}" || strings.HasPrefix(s, "#") || strings.ContainsAny(s, " \t\r\n\"\\") {
		return strconv.Quote(s)
	}
	return s
}

// rootListener returns the port of the first server block for the root zone "." and
// the tokens of its bind directives, one slice per directive.
func rootListener(c parsed) (string, [][]caddyfile.Token) {
	for _, sb := range c.blocks {
		for _, k := range sb.Keys {
			z, p, ok := zoneKey(k)
			if !ok || z != "." {
				continue
			}
			return p, directives(sb.Tokens["bind"])
		}
	}
	return "", nil
}

// directives splits the tokens of repeated directives into one slice per directive:
// a new one starts at a token equal to the directive's name at the start of a line
// outside braces.
func directives(toks []caddyfile.Token) [][]caddyfile.Token {
	var out [][]caddyfile.Token
	depth := 0
	for i, t := range toks {
		if depth == 0 && (i == 0 || toks[i-1].Line != t.Line || toks[i-1].File != t.File) && t.Text == toks[0].Text {
			out = append(out, nil)
		}
		switch t.Text {
		case "{":
			depth++
		case "}":
			depth--
		}
		out[len(out)-1] = append(out[len(out)-1], t)
	}
	return out
}

// zoneKey returns the normalized zone ("example.org.") and the port ("" when the key
// has none) of a plain DNS server block key; ok is false for other transports and
// keys it does not understand.
func zoneKey(k string) (zone, port string, ok bool) {
	k = strings.ToLower(k)
	if rest, found := strings.CutPrefix(k, "dns://"); found {
		k = rest
	} else if strings.Contains(k, "://") {
		return "", "", false
	}
	host := k
	if h, p, err := net.SplitHostPort(k); err == nil {
		if _, err := strconv.ParseUint(p, 10, 16); err != nil {
			return "", "", false
		}
		host, port = h, p
	}
	if host == "" || strings.ContainsAny(host, "/{}()") {
		return "", "", false
	}
	if !strings.HasSuffix(host, ".") {
		host += "."
	}
	return host, port, true
}

// samePort reports whether two server block ports are the same, taking no port as
// CoreDNS's default port 53.
func samePort(a, b string) bool {
	if a == "" {
		a = "53"
	}
	if b == "" {
		b = "53"
	}
	return a == b
}

// checkResult parses the patched Corefile and checks that the zone is served by
// exactly one server block at port.
func checkResult(out []byte, zone, port string) error {
	c, err := parse(out)
	if err != nil {
		return fmt.Errorf("%w: the patched Corefile would not parse: %v", ErrInvalid, err)
	}
	n := 0
	for _, sb := range c.blocks {
		for _, k := range sb.Keys {
			if z, p, ok := zoneKey(k); ok && z == zone && samePort(p, port) {
				n++
			}
		}
	}
	if n != 1 {
		return fmt.Errorf("%w: in the patched Corefile %d server blocks serve %s instead of one; are the vcdns markers inside another server block, or does a server block lack braces?", ErrInvalid, n, zone)
	}
	return nil
}

// parsed is a Corefile parsed for validation.
type parsed struct {
	blocks []caddyfile.ServerBlock
}

var (
	envRE     = regexp.MustCompile(`\{\$[^}]+\}|\{%[^%]+%\}`)
	envMarker = regexp.MustCompile(`vcdns-env-([0-9a-f]+)-`)
)

// parse parses a Corefile the way CoreDNS does, except that environment variables are
// kept as they are written (not replaced by the syncer's) and imported files are not
// read: a line importing something that is not a snippet is left out.
func parse(corefile []byte) (parsed, error) {
	text := envRE.ReplaceAllStringFunc(string(corefile), func(s string) string {
		return "vcdns-env-" + hex.EncodeToString([]byte(s)) + "-"
	})
	text, err := dropFileImports(text)
	if err != nil {
		return parsed{}, err
	}
	blocks, err := caddyfile.Parse("Corefile", strings.NewReader(text), nil)
	if err != nil {
		return parsed{}, err
	}
	return parsed{blocks: blocks}, nil
}

// restoreEnv turns the placeholders parse puts in for environment variables back.
func restoreEnv(s string) string {
	return envMarker.ReplaceAllStringFunc(s, func(m string) string {
		b, err := hex.DecodeString(envMarker.FindStringSubmatch(m)[1])
		if err != nil {
			return m
		}
		return string(b)
	})
}

// dropFileImports blanks the lines that import files, so that parsing never reads the
// syncer's file system. Snippet imports stay. An import of a file that shares its line
// with other tokens is an error.
func dropFileImports(text string) (string, error) {
	toks := tokens(text)
	snippets := map[string]bool{}
	for _, t := range toks {
		if len(t.Text) > 2 && strings.HasPrefix(t.Text, "(") && strings.HasSuffix(t.Text, ")") {
			snippets[t.Text[1:len(t.Text)-1]] = true
		}
	}
	perLine := map[int]int{}
	for _, t := range toks {
		perLine[t.Line]++
	}
	lines := strings.Split(text, "\n")
	for i := 0; i+1 < len(toks); i++ {
		t, arg := toks[i], toks[i+1]
		if t.Text != "import" || arg.Line != t.Line || snippets[arg.Text] {
			continue
		}
		if perLine[t.Line] != 2 || t.Line < 1 || t.Line > len(lines) {
			return "", fmt.Errorf("line %d: an import of %q shares its line with other tokens", t.Line, arg.Text)
		}
		lines[t.Line-1] = ""
	}
	return strings.Join(lines, "\n"), nil
}

// tokens lexes a Corefile.
func tokens(text string) []caddyfile.Token {
	d := caddyfile.NewDispenser("Corefile", strings.NewReader(text))
	var out []caddyfile.Token
	for d.Next() {
		out = append(out, caddyfile.Token{File: d.File(), Line: d.Line(), Text: d.Val()})
	}
	return out
}
