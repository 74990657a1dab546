package provider

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/backupctl/terraform-provider-backupctl/internal/kcps"
)

// envKCPSPollScale multiplies the KCPS poll and retry intervals. It exists
// for emulators that run jobs faster than KCPS (tests, `make demo`): with
// an emulator at time scale 0.001 set it to 0.001 too. Default 1.
const envKCPSPollScale = "BACKUPCTL_KCPS_POLL_SCALE"

// kcpsAccount is the KCPS client of one provider instance plus the
// account-wide listings every resource of one plan or refresh shares: a
// refresh of 125 volume snapshot resources pages through listSnapshots
// once instead of calling it 125 times.
type kcpsAccount struct {
	client *kcps.Client
	err    error

	mu       sync.Mutex
	snaps    []kcps.Snapshot
	snapsOK  bool
	volumes  []kcps.Volume
	volumeOK bool
}

// kcpsAccount returns the shared KCPS account of this provider instance.
func (d *providerData) kcpsAccount() *kcpsAccount {
	return d.Shared("kcps-account", func() any {
		a := &kcpsAccount{}
		k := d.KCPS
		if len(k.Unknown) > 0 {
			a.err = fmt.Errorf("KCPS cannot be called yet: %s known only during apply (from a resource or data source not read yet)",
				strings.Join(k.Unknown, ", "))
			return a
		}
		if k.Endpoint == "" || k.APIKey == "" || k.SecretKey == "" {
			a.err = fmt.Errorf("KCPS is not configured: set endpoint, api_key and secret_key in the provider's kcps block, or %s, %s and %s",
				envKCPSEndpoint, envKCPSAPIKey, envKCPSSecretKey)
			return a
		}
		scale := 1.0
		if s := os.Getenv(envKCPSPollScale); s != "" {
			if v, err := strconv.ParseFloat(s, 64); err == nil && v > 0 && v <= 1 {
				scale = v
			}
		}
		poll := kcps.DefaultPollPolicy
		poll.Scale = scale
		a.client, a.err = kcps.New(kcps.Config{Endpoint: k.Endpoint, APIKey: k.APIKey, SecretKey: k.SecretKey,
			Poll: poll, Retry: kcps.RetryPolicy{Scale: scale},
			Logf: func(ctx context.Context, format string, args ...any) {
				tflog.SubsystemDebug(ctx, logKCPS, fmt.Sprintf(format, args...))
			}})
		return a
	}).(*kcpsAccount)
}

// KCPSClient returns the shared client, or adds an error to diags.
func (d *providerData) KCPSClient(diags *diag.Diagnostics) *kcps.Client {
	a := d.kcpsAccount()
	if a.err != nil {
		diags.AddError("KCPS is not configured", a.err.Error())
		return nil
	}
	return a.client
}

// Snapshots returns every snapshot of the account, listed once (all pages)
// and shared until invalidated.
func (a *kcpsAccount) Snapshots(ctx context.Context) ([]kcps.Snapshot, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.snapsOK {
		return a.snaps, nil
	}
	ss, err := a.client.ListSnapshots(ctx, kcps.SnapshotFilter{})
	if err != nil {
		return nil, err
	}
	tflog.SubsystemDebug(ctx, logKCPS, "listed the account's snapshots", map[string]any{"count": len(ss)})
	a.snaps, a.snapsOK = ss, true
	return ss, nil
}

// Volumes returns every volume of the account, listed once and shared.
func (a *kcpsAccount) Volumes(ctx context.Context) ([]kcps.Volume, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.volumeOK {
		return a.volumes, nil
	}
	vs, err := a.client.ListVolumes(ctx, kcps.VolumeFilter{})
	if err != nil {
		return nil, err
	}
	a.volumes, a.volumeOK = vs, true
	return vs, nil
}

// Volume finds a volume in the shared listing. A volume missing from it is
// asked for directly before it is reported absent: another resource of the
// same apply may have just created it.
func (a *kcpsAccount) Volume(ctx context.Context, id string) (kcps.Volume, bool, error) {
	vs, err := a.Volumes(ctx)
	if err != nil {
		return kcps.Volume{}, false, err
	}
	for _, v := range vs {
		if v.ID == id {
			return v, true, nil
		}
	}
	v, err := a.client.GetVolume(ctx, id)
	if kcps.IsNotFound(err) {
		return kcps.Volume{}, false, nil
	}
	if err != nil {
		return kcps.Volume{}, false, err
	}
	a.mu.Lock()
	if a.volumeOK {
		a.volumes = append(a.volumes, v)
	}
	a.mu.Unlock()
	return v, true, nil
}

// Invalidate drops the shared listings after this instance changed
// something.
func (a *kcpsAccount) Invalidate() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.snapsOK, a.volumeOK = false, false
	a.snaps, a.volumes = nil, nil
}

// kcpsLogf sends the client's progress lines to the kcps log subsystem.
func kcpsLogf(ctx context.Context) func(string, ...any) {
	return func(format string, args ...any) {
		tflog.SubsystemInfo(ctx, logKCPS, fmt.Sprintf(format, args...))
	}
}
