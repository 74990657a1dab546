package kcps

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
)

// listAll pages through a list command: page=1,2,... with pagesize, until a
// short page or the announced count is reached. KCPS answers an empty list
// as {"<cmd>response":{}}.
func listAll[W any](ctx context.Context, c *Client, command, key string, params url.Values) ([]W, error) {
	var all []W
	size := c.cfg.PageSize
	for page := 1; ; page++ {
		p := url.Values{}
		for k, v := range params {
			p[k] = v
		}
		p.Set("page", strconv.Itoa(page))
		p.Set("pagesize", strconv.Itoa(size))
		raw, err := c.Call(ctx, command, p, Safe)
		if err != nil {
			return nil, err
		}
		var body map[string]json.RawMessage
		if err := json.Unmarshal(raw, &body); err != nil {
			return nil, fmt.Errorf("kcps %s: %w", command, err)
		}
		var count flexInt
		if v, ok := body["count"]; ok {
			_ = json.Unmarshal(v, &count)
		}
		var items []W
		if v, ok := body[key]; ok {
			if err := json.Unmarshal(v, &items); err != nil {
				return nil, fmt.Errorf("kcps %s: %s: %w", command, key, err)
			}
		}
		all = append(all, items...)
		if len(items) < size || (count > 0 && len(all) >= int(count)) {
			return all, nil
		}
	}
}
