// Package gds drives PRIMECLUSTER GDS Snapshot proxy pairs over a
// transport.Transport: it builds the sdxproxy/sdxvolume/sdxinfo argv (never
// a shell string), parses sdxinfo tolerantly, classifies "SDX:<cmd>: ERROR:"
// messages into typed errors, and converges a master/proxy pair to the
// joined or parted state in the order seed 003 documents. It knows nothing
// of Terraform.
package gds

import (
	"fmt"
	"sort"
	"strings"
)

// Device returns the block device path of volume vol of class.
func Device(class, vol string) string { return "/dev/sfdsk/" + class + "/dsk/" + vol }

// RawDevice returns the raw device path of volume vol of class.
func RawDevice(class, vol string) string { return "/dev/sfdsk/" + class + "/rdsk/" + vol }

// ValidName reports whether s is a valid GDS object name (class, group,
// disk, volume): 1 to 32 characters of letters, digits, '-' and '_', the
// first one a letter or digit.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i, c := range s {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '-' && c != '_') {
			return false
		}
	}
	return true
}

// CheckName returns an error naming what is wrong with s, or nil.
func CheckName(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("a GDS object name cannot be empty")
	case len(s) > 32:
		return fmt.Errorf("%q is longer than 32 characters", s)
	case !ValidName(s):
		return fmt.Errorf("%q is not a valid GDS object name: use letters, digits, '-' and '_', starting with a letter or digit", s)
	}
	return nil
}

// StopVolumeArgv: sdxvolume -F -c class -v vol[,...] [-e allnodes].
func StopVolumeArgv(class string, vols []string, allNodes bool) []string {
	a := []string{"sdxvolume", "-F", "-c", class, "-v", strings.Join(vols, ",")}
	if allNodes {
		a = append(a, "-e", "allnodes")
	}
	return a
}

// StartVolumeArgv: sdxvolume -N -c class -v vol[,...] [-e allnodes].
func StartVolumeArgv(class string, vols []string, allNodes bool) []string {
	a := []string{"sdxvolume", "-N", "-c", class, "-v", strings.Join(vols, ",")}
	if allNodes {
		a = append(a, "-e", "allnodes")
	}
	return a
}

// JoinArgv: sdxproxy Join -c class -m master -p proxy [-a m=p:on,...].
// volumeMap (master volume -> proxy volume) is given for group pairs only;
// the entries are sorted so the command line is stable.
func JoinArgv(class, master, proxy string, volumeMap map[string]string) []string {
	a := []string{"sdxproxy", "Join", "-c", class, "-m", master, "-p", proxy}
	if len(volumeMap) > 0 {
		a = append(a, "-a", MapAttr(volumeMap))
	}
	return a
}

// MapAttr renders a volume map as Join's -a value: mvol=pvol:on,...
// (JRM on, so that a Rejoin copies only what changed).
func MapAttr(volumeMap map[string]string) string {
	keys := make([]string, 0, len(volumeMap))
	for k := range volumeMap {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	items := make([]string, len(keys))
	for i, k := range keys {
		items[i] = k + "=" + volumeMap[k] + ":on"
	}
	return strings.Join(items, ",")
}

// PartArgv: sdxproxy Part -c class -p proxy[,...] [-e instant].
func PartArgv(class string, proxies []string, instant bool) []string {
	a := []string{"sdxproxy", "Part", "-c", class, "-p", strings.Join(proxies, ",")}
	if instant {
		a = append(a, "-e", "instant")
	}
	return a
}

// RejoinArgv: sdxproxy Rejoin -c class -p proxy[,...].
func RejoinArgv(class string, proxies []string) []string {
	return []string{"sdxproxy", "Rejoin", "-c", class, "-p", strings.Join(proxies, ",")}
}

// RestoreArgv: sdxproxy Restore -c class -p proxy[,...] [-e instant,nowaitsync].
// The copy back is always run in the background (nowaitsync) and waited
// for by polling, so that a cancelled apply does not leave a hung command.
func RestoreArgv(class string, proxies []string, instant bool) []string {
	e := "nowaitsync"
	if instant {
		e = "instant,nowaitsync"
	}
	return []string{"sdxproxy", "Restore", "-c", class, "-p", strings.Join(proxies, ","), "-e", e}
}

// BreakArgv: sdxproxy Break -c class -p proxy [-e force].
func BreakArgv(class, proxy string, force bool) []string {
	a := []string{"sdxproxy", "Break", "-c", class, "-p", proxy}
	if force {
		a = append(a, "-e", "force")
	}
	return a
}

// InfoArgv: sdxinfo -A -c class [-o object] -e long. -A shows every
// object type; -e long adds the proxy columns.
func InfoArgv(class, object string) []string {
	a := []string{"sdxinfo", "-A", "-c", class}
	if object != "" {
		a = append(a, "-o", object)
	}
	return append(a, "-e", "long")
}

// SliceInfoArgv: sdxinfo -S -c class -o object -e long, the copy check of
// seed 003 step 2.
func SliceInfoArgv(class, object string) []string {
	return []string{"sdxinfo", "-S", "-c", class, "-o", object, "-e", "long"}
}
