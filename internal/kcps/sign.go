package kcps

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// javaEscape encodes s the way java.net.URLEncoder does (the encoder the
// CloudStack server uses to rebuild the string it verifies), except that a
// space becomes %20 instead of '+': letters, digits and ". - * _" are kept,
// every other byte becomes %XX.
func javaEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '-', c == '*', c == '_':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// CanonicalString is the text that gets signed: parameters sorted by name,
// each value escaped with javaEscape, joined with '&', lower-cased. The
// "signature" parameter, if present, is left out. Only the first value of a
// repeated key counts, as on the server.
func CanonicalString(params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if strings.EqualFold(k, "signature") {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(javaEscape(params.Get(k)))
	}
	return strings.ToLower(b.String())
}

// Sign returns the base64 HMAC-SHA1 of CanonicalString(params) keyed with
// secret (not yet URL-encoded).
func Sign(params url.Values, secret string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(CanonicalString(params)))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// SignedQuery returns the full query string for params (which must already
// hold apiKey, command and response), with &signature= appended.
func SignedQuery(params url.Values, secret string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if !strings.EqualFold(k, "signature") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(javaEscape(k))
		b.WriteByte('=')
		b.WriteString(javaEscape(params.Get(k)))
		b.WriteByte('&')
	}
	b.WriteString("signature=")
	b.WriteString(url.QueryEscape(Sign(params, secret)))
	return b.String()
}
