package archive

import (
	"os"
	"path"
	"syscall"
	"time"
	"unsafe"
)

const atSymlinkNofollow = 0x100 // AT_SYMLINK_NOFOLLOW

// mknodAt creates a device node or FIFO at name inside root: the parent
// is opened through root (so it cannot be outside), the node is made
// relative to it.
func mknodAt(root *os.Root, name string, mode uint32, dev uint64) error {
	d, err := root.Open(path.Dir(name))
	if err != nil {
		return err
	}
	defer d.Close()
	if err := syscall.Mknodat(int(d.Fd()), path.Base(name), mode, int(dev)); err != nil {
		return &os.PathError{Op: "mknod", Path: name, Err: err}
	}
	return nil
}

// lutimesAt sets the times of a symlink itself (not of what it points to).
func lutimesAt(root *os.Root, name string, mtime time.Time) error {
	d, err := root.Open(path.Dir(name))
	if err != nil {
		return err
	}
	defer d.Close()
	base, err := syscall.BytePtrFromString(path.Base(name))
	if err != nil {
		return err
	}
	ts := [2]syscall.Timespec{
		syscall.NsecToTimespec(mtime.Truncate(time.Second).UnixNano()),
		syscall.NsecToTimespec(mtime.Truncate(time.Second).UnixNano()),
	}
	_, _, e := syscall.Syscall6(syscall.SYS_UTIMENSAT, d.Fd(), uintptr(unsafe.Pointer(base)),
		uintptr(unsafe.Pointer(&ts[0])), atSymlinkNofollow, 0, 0)
	if e != 0 {
		return &os.PathError{Op: "utimensat", Path: name, Err: e}
	}
	return nil
}

// startWriteback asks the kernel to start writing the range to disk now
// (sync_file_range with SYNC_FILE_RANGE_WRITE: it does not wait), so that
// the fsync at the end of an archive finds little left to do.
func startWriteback(f *os.File, off, n int64) {
	const syncFileRangeWrite = 2
	_, _, _ = syscall.Syscall6(syscall.SYS_SYNC_FILE_RANGE, f.Fd(), uintptr(off), uintptr(n), syncFileRangeWrite, 0, 0)
}
