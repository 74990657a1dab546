package provider

import "os"

// agentAvailable reports whether an ssh-agent socket is configured.
var agentAvailable = func() bool { return os.Getenv("SSH_AUTH_SOCK") != "" }
