package restore

import (
	"fmt"
	"path"
)

// The identity of a restore target is what `confirm` must repeat for an
// in_place restore, so that nobody overwrites a live system by copying a
// configuration and changing one word:
//
//	archive  "<target_host>:<target_path>"   e.g. "smf1:/"
//	gds      "<host>/<class>/<proxy>"         e.g. "gds1/Class1/Volume2" (the proxy pair's id)
//	kcps     "<name>"                         the name of the VM the restore deploys

// ArchiveIdentity is the identity of an archive restore target.
func ArchiveIdentity(host, targetPath string) string {
	return host + ":" + targetPath
}

// GDSIdentity is the identity of a GDS restore (the proxy pair's id: the
// master related to that proxy is overwritten).
func GDSIdentity(host, class, proxy string) string {
	return host + "/" + class + "/" + proxy
}

// KCPSIdentity is the identity of a KCPS restore: the VM's name.
func KCPSIdentity(name string) string { return name }

// CheckConfirm returns an error unless an in_place restore is confirmed
// with exactly the target's identity. Drills need no confirmation.
func CheckConfirm(mode, identity, confirm string) error {
	if mode != ModeInPlace {
		return nil
	}
	if confirm == "" {
		return fmt.Errorf("mode = %q overwrites the live target %q: set confirm = %q to proceed", ModeInPlace, identity, identity)
	}
	if confirm != identity {
		return fmt.Errorf("confirm = %q does not name this restore's target %q: an in_place restore runs only when confirm equals the target's identity", confirm, identity)
	}
	return nil
}

// CheckAbsClean returns an error unless p is an absolute, clean path.
func CheckAbsClean(p string) error {
	if p == "" || p[0] != '/' {
		return fmt.Errorf("%q is not an absolute path", p)
	}
	if c := path.Clean(p); c != p {
		return fmt.Errorf("%q is not a clean path (write %q)", p, c)
	}
	return nil
}
