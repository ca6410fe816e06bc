package models

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// TestConfigJSON checks that every model's Hyper().Settings round-trips
// through JSON (results files store it) with MMSA's field names, and that
// Hyper().Training is the configuration's training defaults.
func TestConfigJSON(t *testing.T) {
	dims := Dims{T: [3]int{5, 5, 5}, D: [3]int{7, 3, 4}}
	keys := map[string]string{"eflstm": `"num_layers":4`, "tfn": `"post_fusion_dim":64`, "lmf": `"rank":3`, "mfn": `"memsize":400`}
	for _, name := range Names() {
		m, err := New(name, "mosi", dims, tensor.Float32, 1)
		if err != nil {
			t.Fatal(err)
		}
		h := m.Hyper()
		data, err := json.Marshal(h.Settings)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.Contains(string(data), keys[name]) || !strings.Contains(string(data), `"training":{"batch_size"`) {
			t.Errorf("%s: JSON %s lacks %s or the training defaults", name, data, keys[name])
		}
		back := reflect.New(reflect.TypeOf(h.Settings))
		if err := json.Unmarshal(data, back.Interface()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(back.Elem().Interface(), h.Settings) {
			t.Errorf("%s: round trip gave %+v, want %+v", name, back.Elem().Interface(), h.Settings)
		}
		if got := reflect.ValueOf(h.Settings).FieldByName("Training").Interface(); got != h.Training {
			t.Errorf("%s: Hyper().Training = %+v, the configuration's %+v", name, h.Training, got)
		}
	}
}
