package archive

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Names in a manifest are byte strings taken from the file system (member
// names, symlink and hard link targets, owner and group names): on the
// hosts backed up they are often not UTF-8 (Shift-JIS, EUC-JP, Latin-1).
// A JSON string can only hold UTF-8 (encoding/json replaces every invalid
// byte with U+FFFD), so such a name is also written, exactly, as base64
// in a "<field>_b64" field of its entry; the plain field keeps the
// readable, lossy form. Readers take the base64 field when there is one.
// Valid UTF-8 is written only as the plain string, as manifest version 1
// always did, and a manifest without any such name is the same JSON as
// before (and version 1: see manifestVersionFor).
//
// These are functions (encodeManifest, decodeManifest), not JSON methods
// of Manifest or Entry: a manifest has up to millions of entries, and
// json.Marshaler/Unmarshaler methods would make every manifest markedly
// slower to write and read (per-entry calls, or a second pass of the
// JSON scanner over the whole manifest), for the rare one that needs them.

// manifestWire is a manifest with names that are not all UTF-8.
type manifestWire struct {
	Version int         `json:"version"`
	Info    Info        `json:"info"`
	Entries []entryWire `json:"entries"`
}

// entryWire is an Entry with the exact bytes of its names.
type entryWire struct {
	Entry
	rawNames
}

// rawNames are the exact bytes of an entry's names that are not valid
// UTF-8 (nil for the others).
type rawNames struct {
	Name     []byte `json:"name_b64,omitempty"`
	Linkname []byte `json:"linkname_b64,omitempty"`
	Uname    []byte `json:"uname_b64,omitempty"`
	Gname    []byte `json:"gname_b64,omitempty"`
}

// rawField returns s as the exact bytes to store beside its JSON string,
// or nil when the string holds it exactly (valid UTF-8).
func rawField(s string) []byte {
	if utf8.ValidString(s) {
		return nil
	}
	return []byte(s)
}

// needsRaw reports whether an entry has a name that only the *_b64
// fields hold exactly.
func (e *Entry) needsRaw() bool {
	return !utf8.ValidString(e.Name) || !utf8.ValidString(e.Linkname) ||
		!utf8.ValidString(e.Uname) || !utf8.ValidString(e.Gname)
}

func needsRaw(entries []Entry) bool {
	for i := range entries {
		if entries[i].needsRaw() {
			return true
		}
	}
	return false
}

// manifestVersionFor is the version a manifest of entries is written
// with: the oldest that holds them exactly. Version 1 readers ignore the
// *_b64 fields: they would take the lossy names for the real ones and
// call the archive corrupt at the first of them. A manifest that needs
// them is therefore version 2, which those readers refuse as written by a
// newer backupctl (and keep as unverifiable, never pruned); every other
// manifest stays version 1, readable by every release.
func manifestVersionFor(entries []Entry) int {
	if needsRaw(entries) {
		return ManifestVersion
	}
	return manifestVersionUTF8
}

// encodeManifest writes m as JSON, with "<field>_b64" beside every entry
// name that is not valid UTF-8. (Plain json.Marshal of a Manifest would
// write such names lossily.)
func encodeManifest(m *Manifest) ([]byte, error) {
	if !needsRaw(m.Entries) {
		return json.Marshal(m)
	}
	w := manifestWire{Version: m.Version, Info: m.Info, Entries: make([]entryWire, len(m.Entries))}
	for i, e := range m.Entries {
		w.Entries[i] = entryWire{Entry: e, rawNames: rawNames{
			Name:     rawField(e.Name),
			Linkname: rawField(e.Linkname),
			Uname:    rawField(e.Uname),
			Gname:    rawField(e.Gname),
		}}
	}
	return json.Marshal(w)
}

// decodeManifest reads a manifest of any version. A "<field>_b64" gives
// the exact bytes of its name; it must agree with the plain field (its
// lossy UTF-8 form): a manifest edited in one place only is refused
// rather than half believed.
func decodeManifest(data []byte, m *Manifest) error {
	if err := json.Unmarshal(data, m); err != nil {
		return err
	}
	// Field names match case-insensitively. Without "_b64" anywhere (the
	// common case) there is nothing more to read: one pass only. (A key
	// spelt with \u escapes is not looked for: its names stay lossy and
	// the archive fails its checks, as with version 1.)
	if !bytes.Contains(data, []byte(`_b64"`)) && !bytes.Contains(data, []byte(`_B64"`)) {
		return nil
	}
	var raw struct {
		Entries []rawNames `json:"entries"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	if len(raw.Entries) != len(m.Entries) {
		return fmt.Errorf("entries read twice differ in number (%d, %d)", len(m.Entries), len(raw.Entries))
	}
	for i := range m.Entries {
		if err := applyRaw(&m.Entries[i], raw.Entries[i]); err != nil {
			return fmt.Errorf("entry %d: %w", i+1, err)
		}
	}
	return nil
}

// applyRaw replaces e's names by their exact bytes from r.
func applyRaw(e *Entry, r rawNames) error {
	for _, f := range []struct {
		key   string
		plain *string
		raw   []byte
	}{
		{"name", &e.Name, r.Name},
		{"linkname", &e.Linkname, r.Linkname},
		{"uname", &e.Uname, r.Uname},
		{"gname", &e.Gname, r.Gname},
	} {
		if f.raw == nil {
			continue
		}
		if lossyUTF8(string(f.raw)) != *f.plain {
			return fmt.Errorf("%s_b64 (%q) does not match %s %q", f.key, f.raw, f.key, *f.plain)
		}
		*f.plain = string(f.raw)
	}
	return nil
}

// lossyUTF8 is s as encoding/json writes it into a JSON string: every byte
// that is not part of valid UTF-8 becomes U+FFFD.
func lossyUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}
