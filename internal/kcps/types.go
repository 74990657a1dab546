package kcps

import "time"

// Snapshot states (CloudStack 4.3).
const (
	SnapshotCreating  = "Creating"
	SnapshotBackingUp = "BackingUp"
	SnapshotBackedUp  = "BackedUp"
	SnapshotError     = "Error"
)

// VM states.
const (
	VMRunning  = "Running"
	VMStopped  = "Stopped"
	VMStarting = "Starting"
	VMStopping = "Stopping"
)

// Volume is one entry of listVolumes.
type Volume struct {
	ID               string
	Name             string
	Type             string // ROOT or DATADISK
	VirtualMachineID string
	VMName           string
	VMState          string
	State            string
	Size             int64 // bytes
	ZoneID           string
	ZoneName         string
	Account          string
	Created          time.Time
}

// VirtualMachine is one entry of listVirtualMachines.
type VirtualMachine struct {
	ID                string
	Name              string
	DisplayName       string
	State             string
	ZoneID            string
	ZoneName          string
	TemplateID        string
	ServiceOfferingID string
	Account           string
	CPUNumber         int
	CPUSpeed          int
	Memory            int
	Created           time.Time
}

// Snapshot is one entry of listSnapshots.
type Snapshot struct {
	ID           string
	Name         string
	VolumeID     string
	VolumeName   string
	VolumeType   string
	State        string
	IntervalType string // MANUAL, HOURLY, DAILY, WEEKLY, MONTHLY
	SnapshotType string
	ZoneID       string
	Account      string
	Created      time.Time
}

// InProgress reports a snapshot still being taken.
func (s Snapshot) InProgress() bool {
	return s.State == SnapshotCreating || s.State == SnapshotBackingUp || s.State == "Allocated" ||
		s.State == "CreatedOnPrimary"
}

// SnapshotPolicy is a recurring snapshot schedule of a volume.
type SnapshotPolicy struct {
	ID           string
	VolumeID     string
	IntervalType string // HOURLY, DAILY, WEEKLY, MONTHLY
	Schedule     string
	Timezone     string
	MaxSnaps     int
}

// Template is one entry of listTemplates or the result of createTemplate.
type Template struct {
	ID          string
	Name        string
	DisplayText string
	OSTypeID    string
	ZoneID      string
	Status      string
	IsReady     bool
	Size        int64
}

// Zone is one entry of listZones.
type Zone struct {
	ID   string
	Name string
}

// Job is a started asynchronous command: the new object's id (when the
// command creates one) and the job id, both known before the job ends.
type Job struct {
	Command string
	ID      string
	JobID   string
	// Ex marks KDDI commands, polled with queryExAsyncJobResult.
	Ex bool
}
