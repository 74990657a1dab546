package kcps

// Wire shapes, tolerant of KCPS's loose typing.

type wireVolume struct {
	ID               flexString `json:"id"`
	Name             flexString `json:"name"`
	Type             flexString `json:"type"`
	VirtualMachineID flexString `json:"virtualmachineid"`
	VMName           flexString `json:"vmname"`
	VMState          flexString `json:"vmstate"`
	State            flexString `json:"state"`
	Size             flexInt    `json:"size"`
	ZoneID           flexString `json:"zoneid"`
	ZoneName         flexString `json:"zonename"`
	Account          flexString `json:"account"`
	Created          flexTime   `json:"created"`
}

func (w wireVolume) value() Volume {
	return Volume{ID: string(w.ID), Name: string(w.Name), Type: string(w.Type),
		VirtualMachineID: string(w.VirtualMachineID), VMName: string(w.VMName), VMState: string(w.VMState),
		State: string(w.State), Size: int64(w.Size), ZoneID: string(w.ZoneID), ZoneName: string(w.ZoneName),
		Account: string(w.Account), Created: timeOf(w.Created)}
}

type wireVM struct {
	ID                flexString `json:"id"`
	Name              flexString `json:"name"`
	DisplayName       flexString `json:"displayname"`
	State             flexString `json:"state"`
	ZoneID            flexString `json:"zoneid"`
	ZoneName          flexString `json:"zonename"`
	TemplateID        flexString `json:"templateid"`
	ServiceOfferingID flexString `json:"serviceofferingid"`
	Account           flexString `json:"account"`
	CPUNumber         flexInt    `json:"cpunumber"`
	CPUSpeed          flexInt    `json:"cpuspeed"`
	Memory            flexInt    `json:"memory"`
	Created           flexTime   `json:"created"`
}

func (w wireVM) value() VirtualMachine {
	return VirtualMachine{ID: string(w.ID), Name: string(w.Name), DisplayName: string(w.DisplayName),
		State: string(w.State), ZoneID: string(w.ZoneID), ZoneName: string(w.ZoneName),
		TemplateID: string(w.TemplateID), ServiceOfferingID: string(w.ServiceOfferingID),
		Account: string(w.Account), CPUNumber: int(w.CPUNumber), CPUSpeed: int(w.CPUSpeed),
		Memory: int(w.Memory), Created: timeOf(w.Created)}
}

type wireSnapshot struct {
	ID           flexString   `json:"id"`
	Name         flexString   `json:"name"`
	VolumeID     flexString   `json:"volumeid"`
	VolumeName   flexString   `json:"volumename"`
	VolumeType   flexString   `json:"volumetype"`
	State        flexString   `json:"state"`
	IntervalType flexInterval `json:"intervaltype"`
	SnapshotType flexString   `json:"snapshottype"`
	ZoneID       flexString   `json:"zoneid"`
	Account      flexString   `json:"account"`
	Created      flexTime     `json:"created"`
}

func (w wireSnapshot) value() Snapshot {
	return Snapshot{ID: string(w.ID), Name: string(w.Name), VolumeID: string(w.VolumeID),
		VolumeName: string(w.VolumeName), VolumeType: string(w.VolumeType), State: string(w.State),
		IntervalType: string(w.IntervalType), SnapshotType: string(w.SnapshotType),
		ZoneID: string(w.ZoneID), Account: string(w.Account), Created: timeOf(w.Created)}
}

type wirePolicy struct {
	ID           flexString   `json:"id"`
	VolumeID     flexString   `json:"volumeid"`
	IntervalType flexInterval `json:"intervaltype"`
	Schedule     flexString   `json:"schedule"`
	Timezone     flexString   `json:"timezone"`
	MaxSnaps     flexInt      `json:"maxsnaps"`
}

func (w wirePolicy) value() SnapshotPolicy {
	return SnapshotPolicy{ID: string(w.ID), VolumeID: string(w.VolumeID), IntervalType: string(w.IntervalType),
		Schedule: string(w.Schedule), Timezone: string(w.Timezone), MaxSnaps: int(w.MaxSnaps)}
}

type wireTemplate struct {
	ID          flexString `json:"id"`
	Name        flexString `json:"name"`
	DisplayText flexString `json:"displaytext"`
	OSTypeID    flexString `json:"ostypeid"`
	ZoneID      flexString `json:"zoneid"`
	Status      flexString `json:"status"`
	IsReady     flexBool   `json:"isready"`
	Size        flexInt    `json:"size"`
}

func (w wireTemplate) value() Template {
	return Template{ID: string(w.ID), Name: string(w.Name), DisplayText: string(w.DisplayText),
		OSTypeID: string(w.OSTypeID), ZoneID: string(w.ZoneID), Status: string(w.Status),
		IsReady: bool(w.IsReady), Size: int64(w.Size)}
}

type wireZone struct {
	ID   flexString `json:"id"`
	Name flexString `json:"name"`
}
