package provider

import (
	"os"
	"runtime/debug"
)

// Garbage collector settings for the provider process, unless the user
// sets GOGC or GOMEMLIMIT. A provider lives for one terraform command and
// keeps little: at the default GOGC=100 a refresh of a few hundred
// resources spent about a third of the provider's CPU collecting
// garbage. GOGC=400 trades some memory for that CPU (make bench: provider
// CPU per plan of 200 GDS pairs down by a quarter); the soft limit keeps a
// long archive run from letting the heap grow far.
const (
	gcPercent   = 400
	memoryLimit = 768 << 20
)

// TuneRuntime applies the settings above; main calls it, and so does the
// benchmark that serves the provider in-process.
func TuneRuntime() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
