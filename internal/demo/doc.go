// Package demo holds the pieces of `make demo` (examples/demo/run.sh) that
// are easier in Go than in a shell script: a loopback sshd that plays the
// demo's servers, and a readable rendering of a restore report. Its test
// runs the whole demo end to end in fast mode.
package demo
