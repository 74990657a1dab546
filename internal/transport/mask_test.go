package transport

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func testPrivateKey(t *testing.T) string {
	t.Helper()
	_, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(sk, "")
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(block))
}

// keyBody returns the base64 lines of a PEM key (what would give it away).
func keyBody(key string) []string {
	var out []string
	for _, l := range strings.Split(key, "\n") {
		if l != "" && !strings.HasPrefix(l, "-----") {
			out = append(out, l)
		}
	}
	return out
}

func assertNoSecret(t *testing.T, out string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("secret %q still in %q", s, out)
		}
	}
}

func TestMaskPlain(t *testing.T) {
	got := Mask("mysql -pS3cret! --user=x S3cret!", "S3cret!")
	if got != "mysql -p*** --user=x ***" {
		t.Fatalf("got %q", got)
	}
	if got := Mask("a b", ""); got != "a b" {
		t.Fatalf("empty secret changed the text: %q", got)
	}
	if got := Mask("pin=42", "42"); got != "pin=***" {
		t.Fatalf("short secret: %q", got)
	}
}

// A secret that contains another must be masked whole, not leave its tail.
func TestMaskOverlapping(t *testing.T) {
	got := Mask("token abcdef", "abc", "abcdef")
	if got != "token ***" {
		t.Fatalf("got %q", got)
	}
}

// Logged command lines are built with Join, which rewrites single quotes.
func TestMaskQuotedCommandLine(t *testing.T) {
	pw := `it's a "secret"`
	line := Join([]string{"mysqldump", "--password=" + pw, "db"})
	got := Mask(line, pw)
	assertNoSecret(t, got, pw, "secret", `it'\''s`)
	if !strings.HasPrefix(got, "mysqldump ") || !strings.HasSuffix(got, " db") {
		t.Fatalf("masked too much: %q", got)
	}
}

func TestMaskPrivateKey(t *testing.T) {
	key := testPrivateKey(t)
	body := keyBody(key)
	jsonKey, _ := json.Marshal(key)
	crlf := strings.ReplaceAll(key, "\n", "\r\n")
	for name, text := range map[string]string{
		"verbatim":     "error: bad key " + key + " end",
		"json-escaped": `{"private_key":` + string(jsonKey) + `}`,
		"one line":     "key=" + strings.Join(body, ""),
		"crlf":         "got:\r\n" + crlf,
		"single line":  "line 2 is " + body[1],
	} {
		t.Run(name, func(t *testing.T) {
			got := Mask(text, key)
			assertNoSecret(t, got, body...)
		})
	}
	// A key given with CRLF line ends is masked in LF text too.
	assertNoSecret(t, Mask(key, crlf), body...)
}
