package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func TestAccGDSVolumesDataSource(t *testing.T) {
	testAccPreCheck(t)
	for name, mk := range map[string]func(*testing.T) *gdsAcc{"local": gdsAccLocal, "ssh": gdsAccSSH} {
		t.Run(name, func(t *testing.T) {
			a := mk(t)
			// a joined volume pair and a parted group pair, made out of band
			a.emu.MustRun(t, "sdxvolume", "-F", "-c", "Class1", "-v", "Volume2", "-e", "allnodes")
			a.emu.MustRun(t, "sdxproxy", "Join", "-c", "Class1", "-m", "Volume1", "-p", "Volume2", "-e", "waitsync")
			a.emu.MustRun(t, "sdxproxy", "Join", "-c", "Class1", "-m", "Group1", "-p", "Group3", "-a", "Volume1=Proxy1:on,Volume3=Proxy3:on", "-e", "waitsync")
			a.emu.MustRun(t, "sdxproxy", "Part", "-c", "Class1", "-p", "Group3")
			ds := "data.backupctl_gds_volumes.c"
			at := func(p tfjsonpath.Path, v knownvalue.Check) statecheck.StateCheck {
				return statecheck.ExpectKnownValue(ds, p, v)
			}
			vol := func(i int) tfjsonpath.Path { return tfjsonpath.New("volumes").AtSliceIndex(i) }
			str := knownvalue.StringExact
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				Steps: []resource.TestStep{{
					Config: a.provider + `data "backupctl_gds_volumes" "c" {
  host  = "` + a.host + `"
  class = "Class1"
}
`,
					ConfigStateChecks: []statecheck.StateCheck{
						at(tfjsonpath.New("id"), str(a.host+"/Class1")),
						at(tfjsonpath.New("volumes"), knownvalue.ListSizeExact(5)),
						at(vol(0).AtMapKey("name"), str("Proxy1")),
						at(vol(0).AtMapKey("master"), str("Volume1")),
						at(vol(0).AtMapKey("proxy_state"), str("parted")),
						at(vol(0).AtMapKey("group"), str("Group3")),
						at(vol(3).AtMapKey("name"), str("Volume2")),
						at(vol(3).AtMapKey("master"), str("Volume1")),
						at(vol(3).AtMapKey("proxy_state"), str("joined")),
						at(vol(3).AtMapKey("status"), str("STOP")),
						at(vol(3).AtMapKey("size_mb"), knownvalue.Int64Exact(100)),
						at(vol(3).AtMapKey("device"), str("/dev/sfdsk/Class1/dsk/Volume2")),
						at(vol(3).AtMapKey("raw_device"), str("/dev/sfdsk/Class1/rdsk/Volume2")),
						at(vol(3).AtMapKey("slices"), knownvalue.ListExact([]knownvalue.Check{
							knownvalue.ObjectExact(map[string]knownvalue.Check{"disk": str("Disk3"), "status": str("STOP"), "copy": knownvalue.Null()}),
							knownvalue.ObjectExact(map[string]knownvalue.Check{"disk": str("Disk4"), "status": str("STOP"), "copy": knownvalue.Null()}),
						})),
						at(vol(2).AtMapKey("name"), str("Volume1")),
						at(vol(2).AtMapKey("master"), knownvalue.Null()),
						at(vol(2).AtMapKey("proxy_state"), knownvalue.Null()),
						at(tfjsonpath.New("groups"), knownvalue.ListSizeExact(3)),
						at(tfjsonpath.New("groups").AtSliceIndex(2).AtMapKey("master"), str("Group1")),
						at(tfjsonpath.New("groups").AtSliceIndex(0).AtMapKey("disks"), knownvalue.ListExact([]knownvalue.Check{str("Disk1"), str("Disk2")})),
						at(tfjsonpath.New("proxies"), knownvalue.ListExact([]knownvalue.Check{
							knownvalue.ObjectExact(map[string]knownvalue.Check{
								"master": str("Group1"), "proxy": str("Group3"), "kind": str("group"), "state": str("parted"),
								"copy_status": str("ACTIVE"),
								"volume_map":  knownvalue.MapExact(map[string]knownvalue.Check{"Volume1": str("Proxy1"), "Volume3": str("Proxy3")}),
							}),
							knownvalue.ObjectExact(map[string]knownvalue.Check{
								"master": str("Volume1"), "proxy": str("Volume2"), "kind": str("volume"), "state": str("joined"),
								"copy_status": str("STOP"), "volume_map": knownvalue.Null(),
							}),
						})),
					},
				}, {
					Config:      a.provider + `data "backupctl_gds_volumes" "c" {` + "\n  host  = \"" + a.host + "\"\n  class = \"NoClass\"\n}\n",
					ExpectError: regexp.MustCompile(`(?s)No such class.*NoClass: no such\s+class`),
				}},
			})
		})
	}
}
