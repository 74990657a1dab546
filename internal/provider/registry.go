package provider

import (
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// Each resource and data source registers itself from its own file, so that
// adding one never touches provider.go.
var (
	registryMu  sync.Mutex
	resources   []func() resource.Resource
	dataSources []func() datasource.DataSource
)

func registerResource(f func() resource.Resource) {
	registryMu.Lock()
	defer registryMu.Unlock()
	resources = append(resources, f)
}

func registerDataSource(f func() datasource.DataSource) {
	registryMu.Lock()
	defer registryMu.Unlock()
	dataSources = append(dataSources, f)
}
