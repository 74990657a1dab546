package provider

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/vmihailenco/msgpack/v5"
)

// stateToMsgPack re-encodes a JSON state (UpgradeResourceState at the
// current schema version) as the msgpack the framework's passthrough
// produces, without tftypes' token-by-token JSON decoding, the largest
// single cost of a refresh. It handles what Terraform writes for our
// schemas: null, strings, booleans, integers, lists, sets, maps and
// objects with known attributes. ok is false for anything else (an
// attribute the schema no longer has, a fraction, a dynamic value, a
// value of the wrong kind): the framework then decides and words it.
func stateToMsgPack(state []byte, typ tftypes.Type) (out []byte, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(state))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return nil, false
	}
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	if !encodeState(enc, v, typ) {
		return nil, false
	}
	return buf.Bytes(), true
}

func encodeState(enc *msgpack.Encoder, v any, typ tftypes.Type) bool {
	if v == nil {
		return enc.EncodeNil() == nil
	}
	switch {
	case typ.Is(tftypes.String):
		s, ok := v.(string)
		return ok && enc.EncodeString(s) == nil
	case typ.Is(tftypes.Bool):
		b, ok := v.(bool)
		return ok && enc.EncodeBool(b) == nil
	case typ.Is(tftypes.Number):
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		return err == nil && enc.EncodeInt(i) == nil
	case typ.Is(tftypes.List{}):
		return encodeElems(enc, v, typ.(tftypes.List).ElementType)
	case typ.Is(tftypes.Set{}):
		return encodeElems(enc, v, typ.(tftypes.Set).ElementType)
	case typ.Is(tftypes.Map{}):
		m, ok := v.(map[string]any)
		if !ok || enc.EncodeMapLen(len(m)) != nil {
			return false
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		et := typ.(tftypes.Map).ElementType
		for _, k := range keys {
			if enc.EncodeString(k) != nil || !encodeState(enc, m[k], et) {
				return false
			}
		}
		return true
	case typ.Is(tftypes.Object{}):
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		ot := typ.(tftypes.Object)
		if len(ot.OptionalAttributes) > 0 {
			return false
		}
		for k := range m {
			if _, known := ot.AttributeTypes[k]; !known {
				return false
			}
		}
		names := make([]string, 0, len(ot.AttributeTypes))
		for k := range ot.AttributeTypes {
			names = append(names, k)
		}
		sort.Strings(names)
		if enc.EncodeMapLen(len(names)) != nil {
			return false
		}
		for _, k := range names {
			// an attribute missing from the JSON is null
			if enc.EncodeString(k) != nil || !encodeState(enc, m[k], ot.AttributeTypes[k]) {
				return false
			}
		}
		return true
	}
	return false // tuples, dynamic values
}

func encodeElems(enc *msgpack.Encoder, v any, et tftypes.Type) bool {
	l, ok := v.([]any)
	if !ok || enc.EncodeArrayLen(len(l)) != nil {
		return false
	}
	for _, e := range l {
		if !encodeState(enc, e, et) {
			return false
		}
	}
	return true
}
