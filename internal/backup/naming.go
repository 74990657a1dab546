package backup

import (
	"crypto/rand"
	"encoding/hex"
	"path"
	"strings"
	"time"

	"github.com/backupctl/terraform-provider-backupctl/internal/archive"
)

// Generation files are named
//
//	<prefix>-<UTC time, 20060102T150405Z>-<8 hex digits>.<format>
//
// in the destination directory, where prefix is the directory's own name
// (so /backup/arms-proxy holds arms-proxy-20261122T063000Z-1a2b3c4d.tar.gz)
// and the hex digits are random, so that two runs in one second differ.
// The generation id is the file name without its format extension.
// Beside it: <file>.manifest.json (the archive engine's) and
// <file>.labels.json (ours, see Sidecar).

const timeLayout = "20060102T150405Z"

// Prefix returns the generation name prefix of a destination directory.
func Prefix(dir string) string {
	base := path.Base(path.Clean(dir))
	var b strings.Builder
	for _, c := range base {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), ".")
	if s == "" || s == "_" {
		return "backup"
	}
	return s
}

// NewID returns a fresh generation id for dir at time now.
func NewID(dir string, now time.Time) string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return Prefix(dir) + "-" + now.UTC().Format(timeLayout) + "-" + hex.EncodeToString(r[:])
}

// FilePath returns the archive path of generation id in dir.
func FilePath(dir, id string, f archive.Format) string {
	return path.Join(dir, id+f.Ext())
}

// IDFromFile returns the generation id of an archive file: its base name
// without the format extension.
func IDFromFile(file string) string {
	base := path.Base(file)
	for _, f := range []archive.Format{archive.FormatTarGz, archive.FormatTarZst} {
		if strings.HasSuffix(base, f.Ext()) {
			return strings.TrimSuffix(base, f.Ext())
		}
	}
	return base
}

// SidecarSuffix is appended to an archive path for its labels file.
const SidecarSuffix = ".labels.json"

// SidecarPath returns the labels file of an archive.
func SidecarPath(archivePath string) string { return archivePath + SidecarSuffix }
