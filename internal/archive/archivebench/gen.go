package main

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
)

// The generated tree imitates what the archive engine backs up on the
// servers of the seeds: many small configuration, state and result files
// (the ARMS-Proxy push results), big logs, database files made of
// fixed-size pages, and some data that is already compressed, plus empty
// directories, symlinks and a hard link. Every file is derived from the
// seed and its index, so two runs produce the same bytes, whatever the
// number of workers writing them.

// genStats describes a generated tree.
type genStats struct {
	Files int64
	Dirs  int64
	Bytes int64 // regular file content
}

// vocab is a word list with Zipf-like frequencies, shared by all files.
type vocab struct {
	words []string
	cum   []uint32
}

func newVocab(seed uint64) *vocab {
	rng := rand.New(rand.NewPCG(seed, 1))
	const n = 6000
	v := &vocab{words: make([]string, n), cum: make([]uint32, n)}
	var total uint32
	for i := range v.words {
		b := make([]byte, 2+rng.IntN(9))
		for j := range b {
			b[j] = byte('a' + rng.IntN(26))
		}
		v.words[i] = string(b)
		total += uint32(1_000_000 / (i + 10))
		v.cum[i] = total
	}
	return v
}

// filler produces the content of one file.
type filler struct {
	v   *vocab
	rng *rand.Rand
}

func (f *filler) word() string {
	x := f.rng.Uint32N(f.v.cum[len(f.v.cum)-1])
	lo, hi := 0, len(f.v.cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if f.v.cum[m] <= x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return f.v.words[lo]
}

func appendPad(b []byte, n int64, width int) []byte {
	s := strconv.FormatInt(n, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

var levels = []string{"INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"}

const hexDigits = "0123456789abcdef"

// logText: timestamped lines with a level, a worker, a session id and
// words, numbers and key=value pairs.
func (f *filler) logText(b []byte, size int) []byte {
	t := int64(f.rng.IntN(1 << 30))
	for len(b) < size {
		t += int64(f.rng.IntN(3000))
		sec := t / 1000
		b = append(b, "2024-"...)
		b = appendPad(b, 1+sec/2592000%12, 2)
		b = append(b, '-')
		b = appendPad(b, 1+sec/86400%28, 2)
		b = append(b, 'T')
		b = appendPad(b, sec/3600%24, 2)
		b = append(b, ':')
		b = appendPad(b, sec/60%60, 2)
		b = append(b, ':')
		b = appendPad(b, sec%60, 2)
		b = append(b, '.')
		b = appendPad(b, t%1000, 3)
		b = append(b, "Z "...)
		b = append(b, levels[f.rng.IntN(len(levels))]...)
		b = append(b, " [worker-"...)
		b = strconv.AppendInt(b, int64(f.rng.IntN(32)), 10)
		b = append(b, "] session="...)
		id := f.rng.Uint64()
		for i := 0; i < 10; i++ {
			b = append(b, hexDigits[id&15])
			id >>= 4
		}
		n := 4 + f.rng.IntN(14)
		for i := 0; i < n; i++ {
			b = append(b, ' ')
			switch f.rng.IntN(12) {
			case 0:
				b = strconv.AppendInt(b, int64(f.rng.IntN(100000)), 10)
			case 1:
				b = append(b, f.word()...)
				b = append(b, '=')
				b = append(b, f.word()...)
			default:
				b = append(b, f.word()...)
			}
		}
		b = append(b, '\n')
	}
	return b[:size]
}

// configText: sections, comments and key = value lines.
func (f *filler) configText(b []byte, size int) []byte {
	for len(b) < size {
		switch f.rng.IntN(10) {
		case 0:
			b = append(b, "\n["...)
			b = append(b, f.word()...)
			b = append(b, '.')
			b = append(b, f.word()...)
			b = append(b, "]\n"...)
		case 1:
			b = append(b, '#')
			for i := 0; i < 4; i++ {
				b = append(b, ' ')
				b = append(b, f.word()...)
			}
			b = append(b, '\n')
		default:
			b = append(b, f.word()...)
			b = append(b, '.')
			b = append(b, f.word()...)
			b = append(b, " = "...)
			b = append(b, f.word()...)
			b = strconv.AppendInt(b, int64(f.rng.IntN(1000)), 10)
			b = append(b, '\n')
		}
	}
	return b[:size]
}

// jsonText: one JSON record per line, like push results.
func (f *filler) jsonText(b []byte, size int) []byte {
	for len(b) < size {
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, int64(f.rng.IntN(1<<30)), 10)
		b = append(b, `,"device":"`...)
		b = append(b, f.word()...)
		b = append(b, '-')
		b = appendPad(b, int64(f.rng.IntN(10000)), 4)
		b = append(b, `","status":"`...)
		b = append(b, f.word()...)
		b = append(b, `","rtt_ms":`...)
		b = strconv.AppendInt(b, int64(f.rng.IntN(500)), 10)
		b = append(b, '.')
		b = appendPad(b, int64(f.rng.IntN(1000)), 3)
		b = append(b, `,"tags":["`...)
		b = append(b, f.word()...)
		b = append(b, `","`...)
		b = append(b, f.word()...)
		b = append(b, `"],"note":"`...)
		for i := 0; i < 3; i++ {
			if i > 0 {
				b = append(b, ' ')
			}
			b = append(b, f.word()...)
		}
		b = append(b, "\"}\n"...)
	}
	return b[:size]
}

// dbPages: 8 KiB pages with a header, fixed-width rows of small numbers
// and short strings, and zeroed free space.
func (f *filler) dbPages(b []byte, size int) []byte {
	var pno uint32
	for len(b) < size {
		start := len(b)
		b = append(b, make([]byte, 8192)...)
		page := b[start:]
		binary.LittleEndian.PutUint32(page[0:], pno)
		binary.LittleEndian.PutUint64(page[8:], f.rng.Uint64())
		pno++
		off := 64
		rows := 20 + f.rng.IntN(60)
		for r := 0; r < rows && off+96 < len(page); r++ {
			binary.LittleEndian.PutUint32(page[off:], uint32(f.rng.IntN(1<<20)))
			binary.LittleEndian.PutUint16(page[off+4:], uint16(f.rng.IntN(300)))
			binary.LittleEndian.PutUint64(page[off+8:], uint64(1700000000+f.rng.IntN(10000000)))
			n := copy(page[off+16:off+76], f.word())
			n += copy(page[off+16+n:off+76], " ")
			copy(page[off+16+n:off+76], f.word())
			if f.rng.IntN(4) == 0 {
				binary.LittleEndian.PutUint64(page[off+80:], f.rng.Uint64())
			}
			off += 96
		}
	}
	return b[:size]
}

// random: incompressible bytes (already compressed media, keys).
func (f *filler) random(b []byte, size int) []byte {
	for len(b) < size {
		b = binary.LittleEndian.AppendUint64(b, f.rng.Uint64())
	}
	return b[:size]
}

type kind int

const (
	kConfig kind = iota
	kJSON
	kLog
	kDB
	kRandom
)

type fileJob struct {
	path string
	size int
	kind kind
	seed uint64
}

// generate writes a tree of about total bytes under dir: 40% small files
// (0.2-24 KiB), 45% large logs and database files (24-48 MiB), 10%
// already compressed data, the rest medium JSON files.
func generate(dir string, total int64, seed uint64) (genStats, error) {
	var st genStats
	var jobs []fileJob
	rng := rand.New(rand.NewPCG(seed, 2))
	mkdir := func(p string) error {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		st.Dirs++
		return nil
	}
	add := func(p string, size int, k kind) {
		jobs = append(jobs, fileJob{path: p, size: size, kind: k, seed: seed*1_000_003 + uint64(len(jobs))})
		st.Files++
		st.Bytes += int64(size)
	}
	small := total * 40 / 100
	large := total * 45 / 100
	random := total * 10 / 100
	medium := total - small - large - random
	var links [][2]string
	var written int64
	for site := 0; written < small; site++ {
		for dev := 0; dev < 20 && written < small; dev++ {
			ddir := filepath.Join(dir, "proxy", fmt.Sprintf("site%03d", site), fmt.Sprintf("dev%02d", dev))
			if err := mkdir(ddir); err != nil {
				return st, err
			}
			for f := 0; f < 12 && written < small; f++ {
				size := 200 + rng.IntN(24<<10)
				switch k := kind(rng.IntN(3)); k {
				case kConfig:
					add(filepath.Join(ddir, fmt.Sprintf("conf%02d.cfg", f)), size, k)
				case kJSON:
					add(filepath.Join(ddir, fmt.Sprintf("result%02d.json", f)), size, k)
				default:
					add(filepath.Join(ddir, fmt.Sprintf("push%02d.log", f)), size, kLog)
				}
				written += int64(size)
			}
			if dev%7 == 0 {
				if err := mkdir(filepath.Join(ddir, "spool", "empty")); err != nil {
					return st, err
				}
			}
			if dev%5 == 0 {
				links = append(links, [2]string{"current.cfg", filepath.Join(ddir, "current.cfg")})
			}
		}
	}
	for _, d := range []string{"results", "db", "log", "media"} {
		if err := mkdir(filepath.Join(dir, d)); err != nil {
			return st, err
		}
	}
	for i := 0; medium > 0; i++ {
		size := min(int64(256<<10+rng.IntN(1<<20)), medium)
		add(filepath.Join(dir, "results", fmt.Sprintf("batch%04d.json", i)), int(size), kJSON)
		medium -= size
	}
	for i := 0; large > 0; i++ {
		size := min(int64(24<<20+rng.IntN(24<<20)), large)
		if i%2 == 0 {
			add(filepath.Join(dir, "db", fmt.Sprintf("table%02d.dat", i)), int(size), kDB)
		} else {
			add(filepath.Join(dir, "log", fmt.Sprintf("server.log.%d", i)), int(size), kLog)
		}
		large -= size
	}
	for i := 0; random > 0; i++ {
		size := min(int64(4<<20+rng.IntN(12<<20)), random)
		add(filepath.Join(dir, "media", fmt.Sprintf("blob%02d.bin", i)), int(size), kRandom)
		random -= size
	}
	if err := writeJobs(jobs, newVocab(seed)); err != nil {
		return st, err
	}
	for _, l := range links {
		if err := os.Symlink(l[0], l[1]); err != nil {
			return st, err
		}
	}
	if err := os.Link(filepath.Join(dir, "media", "blob00.bin"), filepath.Join(dir, "media", "blob00.hardlink")); err != nil {
		return st, err
	}
	return st, nil
}

// writeJobs writes the files on every CPU.
func writeJobs(jobs []fileJob, v *vocab) error {
	ch := make(chan fileJob)
	errs := make(chan error, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			var first error
			for j := range ch {
				if first != nil {
					continue
				}
				first = writeJob(j, v, &buf)
			}
			errs <- first
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func writeJob(j fileJob, v *vocab, buf *[]byte) error {
	f := &filler{v: v, rng: rand.New(rand.NewPCG(j.seed, 3))}
	out, err := os.Create(j.path)
	if err != nil {
		return err
	}
	const chunk = 1 << 20
	for left := j.size; left > 0; left -= chunk {
		n := min(left, chunk)
		b := (*buf)[:0]
		switch j.kind {
		case kConfig:
			b = f.configText(b, n)
		case kJSON:
			b = f.jsonText(b, n)
		case kLog:
			b = f.logText(b, n)
		case kDB:
			b = f.dbPages(b, n)
		default:
			b = f.random(b, n)
		}
		*buf = b
		if _, err := out.Write(b); err != nil {
			out.Close()
			return err
		}
	}
	return out.Close()
}
