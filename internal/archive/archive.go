// Package archive writes, checks, lists and extracts the tar archives that
// backupctl keeps as backup generations.
//
// An archive is a tar stream compressed with gzip (parallel, klauspost/pgzip)
// or zstd (klauspost/compress), written on a destination host through a
// transport, with a JSON manifest beside it ("<archive>.manifest.json") that
// lists every member with its size and SHA-256. The archive is first written
// as "<archive>.partial", renamed when complete, and the manifest is written
// last: an archive without a manifest is never complete, and List never
// shows it.
//
// Member names are the absolute source paths without their leading "/"
// (like GNU tar run as "tar -C / -cf - var/service/..."), so that
// "tar -xpzf archive.tar.gz -C /" puts every file back where it was.
// Archives keep owner and group (numeric ids and names), mode, mtime
// (seconds), symlinks, hard links and empty directories, and extract with
// plain GNU tar ("tar -xpzf" or "tar --zstd -xpf").
package archive

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
)

// Format is the compression of an archive.
type Format string

const (
	// FormatTarGz is tar compressed with gzip (the default).
	FormatTarGz Format = "tar.gz"
	// FormatTarZst is tar compressed with zstd.
	FormatTarZst Format = "tar.zst"
)

// Ext returns the usual file name extension, with its dot.
func (f Format) Ext() string { return "." + string(f.orDefault()) }

func (f Format) orDefault() Format {
	if f == "" {
		return FormatTarGz
	}
	return f
}

// Valid reports whether f is a known format ("" means the default).
func (f Format) Valid() bool {
	switch f {
	case "", FormatTarGz, FormatTarZst:
		return true
	}
	return false
}

// CreateOptions says what to archive.
type CreateOptions struct {
	// Paths are absolute paths on the source host. Each is stored under its
	// path without the leading "/". A path inside another one is archived once.
	Paths []string
	// Exclude holds glob patterns with GNU tar --exclude semantics (see
	// Matcher): "*", "?" and "[...]" match any character including "/"; a
	// pattern matches a member when it matches its whole name, or the part
	// after any "/", or a leading part of it that ends before a "/" (so a
	// pattern naming a directory excludes all it contains). A pattern that
	// starts with "/" is anchored: it must match from the start of the
	// absolute path ("/var/log/*.gz"). Exclude does not apply to Extra.
	Exclude []string
	// Format is the compression; "" means tar.gz.
	Format Format
	// Level is the compression level: 1 (fastest) to 9 (smallest) for gzip,
	// 1 to 4 for zstd (fastest, default, better, best). 0 picks the default
	// (gzip 3: within a few per cent of "gzip -6" in size, several times
	// faster; zstd 1).
	Level int
	// Extra directories (for example $BACKUP_EXPORT_DIR on the source host)
	// are stored, with their contents, under their As prefix.
	Extra []ExtraDir
	// Secrets are masked in returned errors.
	Secrets []string
	// Now is the clock (time.Now when nil); Info.Created is the time the
	// source started being read.
	Now func() time.Time

	// forceTar makes a local source go through GNU tar like a remote one
	// (tests use it to compare both readers).
	forceTar bool
}

// ExtraDir is a directory archived under another name.
type ExtraDir struct {
	// Path is the absolute directory on the source host.
	Path string
	// As is the relative member name it is stored under ("_export").
	As string
}

// Info summarizes a complete archive. Create returns it and the manifest
// stores it.
type Info struct {
	// File is the archive's path on the destination host.
	File string `json:"file"`
	// Bytes is the size of the archive file (compressed).
	Bytes int64 `json:"bytes"`
	// SHA256 is the hex SHA-256 of the archive file.
	SHA256 string `json:"sha256"`
	// Files counts the archive members (files, directories, links...).
	Files int64 `json:"files"`
	// Created is when the source started being read (UTC).
	Created time.Time `json:"created"`
	// Format is the compression.
	Format Format `json:"format"`
}

// Entry types in a manifest.
const (
	TypeFile     = "file"
	TypeDir      = "dir"
	TypeSymlink  = "symlink"
	TypeHardlink = "hardlink"
	TypeChar     = "char"
	TypeBlock    = "block"
	TypeFIFO     = "fifo"
)

// Entry is one archive member.
type Entry struct {
	// Name is the member name, relative, without a trailing "/". Like
	// Linkname, Uname and Gname it holds the exact bytes of the name,
	// which need not be UTF-8 (see encodeManifest).
	Name string `json:"name"`
	// Type is one of the Type* constants.
	Type string `json:"type"`
	// Size is the content size (regular files only).
	Size int64 `json:"size,omitempty"`
	// SHA256 is the hex SHA-256 of the content (regular files only).
	SHA256 string `json:"sha256,omitempty"`
	// Mode holds the permission bits with setuid, setgid and sticky (07777).
	Mode    int64     `json:"mode"`
	UID     int       `json:"uid"`
	GID     int       `json:"gid"`
	Uname   string    `json:"uname,omitempty"`
	Gname   string    `json:"gname,omitempty"`
	ModTime time.Time `json:"mtime"`
	// Linkname is the target of a symlink, or the member a hard link names.
	Linkname string `json:"linkname,omitempty"`
	// Devmajor and Devminor are set for device nodes.
	Devmajor int64 `json:"devmajor,omitempty"`
	Devminor int64 `json:"devminor,omitempty"`
}

// Manifest versions. Version 1 holds every name as a plain JSON string,
// which can only be UTF-8. Version 2 adds, for each name (member name,
// link target, owner or group name) that is not valid UTF-8, its exact
// bytes in base64 ("name_b64" beside "name"...). Create writes the oldest
// version that holds the manifest exactly: 1 when every name is valid
// UTF-8, else 2 (see manifestVersionFor). Readers accept both.
const (
	// ManifestVersion is the newest version this code reads and writes.
	ManifestVersion = 2
	// manifestVersionUTF8 is the version of manifests whose names are
	// all valid UTF-8.
	manifestVersionUTF8 = 1
)

// Manifest is the JSON file beside an archive.
type Manifest struct {
	Version int     `json:"version"`
	Info    Info    `json:"info"`
	Entries []Entry `json:"entries"`
}

// VerifyMode is how deeply Verify checks an archive.
type VerifyMode string

const (
	// VerifyNone only reads the manifest.
	VerifyNone VerifyMode = "none"
	// VerifySize compares the archive's size with the manifest.
	VerifySize VerifyMode = "size"
	// VerifyChecksum compares size and SHA-256 of the archive file.
	VerifyChecksum VerifyMode = "checksum"
	// VerifyDeep also decompresses the archive and checks every member's
	// name, type and content hash against the manifest.
	VerifyDeep VerifyMode = "deep"
)

// Valid reports whether m is a known mode ("" means size).
func (m VerifyMode) Valid() bool {
	switch m {
	case "", VerifyNone, VerifySize, VerifyChecksum, VerifyDeep:
		return true
	}
	return false
}

// ExtractOptions limit and shape an extraction.
type ExtractOptions struct {
	// Overwrite allows replacing existing non-directory files in the target.
	// Without it an existing file is an error (existing directories are
	// merged either way).
	Overwrite bool
	// AllowDevices allows character and block device nodes (FIFOs are
	// always allowed).
	AllowDevices bool
	// MaxBytes caps the total size of the extracted file contents; 0 means
	// no limit.
	MaxBytes int64
	// MaxFiles caps the number of members; 0 means no limit.
	MaxFiles int64
	// SameOwner restores owners even when not running as root (which then
	// fails unless the process may chown). Owners are always restored when
	// the extracting process (or the remote tar) runs as root, like GNU tar.
	SameOwner bool
	// CreatedTarget says that the caller has just made the target
	// directory, empty and private (mode 0700), for this extraction, as
	// Extract itself does with a target that does not exist: no other
	// user can then put a symlink in it while it is filled. Once filled
	// it gets the mode mkdir would have given it, unless the archive has
	// a member for the target itself (".", whose mode it then gets).
	CreatedTarget bool
	// Secrets are masked in returned errors.
	Secrets []string
}

var (
	// ErrMissing means the archive or its manifest does not exist.
	ErrMissing = errors.New("archive missing")
	// ErrCorrupt means the archive does not match its manifest.
	ErrCorrupt = errors.New("archive corrupt")
	// ErrUnsafe means an archive member would write outside the target,
	// through a symlink, or is a device node that was not allowed.
	ErrUnsafe = errors.New("unsafe archive member")
	// ErrLimit means an extraction went past MaxBytes or MaxFiles.
	ErrLimit = errors.New("archive extraction limit exceeded")
)

// Suffixes of the files beside an archive.
const (
	ManifestSuffix = ".manifest.json"
	PartialSuffix  = ".partial"
)

// ManifestPath returns the manifest's path for an archive path.
func ManifestPath(archivePath string) string { return archivePath + ManifestSuffix }

// PartialPath returns the temporary path an archive is written to.
func PartialPath(archivePath string) string { return archivePath + PartialSuffix }

// maskedError hides secrets in the message and keeps the chain for errors.Is.
type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }

func maskErr(err error, secrets []string) error {
	if err == nil || len(secrets) == 0 {
		return err
	}
	msg := err.Error()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "***")
		}
	}
	if msg == err.Error() {
		return err
	}
	return &maskedError{msg: msg, err: err}
}

// checkAbs validates an absolute path given by a caller.
func checkAbs(what, p string) error {
	if p == "" {
		return fmt.Errorf("%s: empty path", what)
	}
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("%s %q: must be an absolute path", what, p)
	}
	if strings.ContainsRune(p, 0) {
		return fmt.Errorf("%s %q: contains a NUL byte", what, p)
	}
	return nil
}

// cleanAbs cleans an absolute path.
func cleanAbs(p string) string { return path.Clean(p) }
