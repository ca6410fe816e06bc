package models

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// TestConfigJSON checks that every model's Config round-trips through JSON
// (results files store it) with MMSA's field names.
func TestConfigJSON(t *testing.T) {
	dims := Dims{T: [3]int{5, 5, 5}, D: [3]int{7, 3, 4}}
	keys := map[string]string{"eflstm": `"num_layers":4`, "tfn": `"post_fusion_dim":64`, "lmf": `"rank":3`, "mfn": `"memsize":400`}
	for _, name := range Names() {
		m, err := New(name, "mosi", dims, tensor.Float32, 1)
		if err != nil {
			t.Fatal(err)
		}
		data, err := json.Marshal(m.Config())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.Contains(string(data), keys[name]) || !strings.Contains(string(data), `"training":{"batch_size"`) {
			t.Errorf("%s: JSON %s lacks %s or the training defaults", name, data, keys[name])
		}
		back := reflect.New(reflect.TypeOf(m.Config()))
		if err := json.Unmarshal(data, back.Interface()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(back.Elem().Interface(), m.Config()) {
			t.Errorf("%s: round trip gave %+v, want %+v", name, back.Elem().Interface(), m.Config())
		}
	}
}
