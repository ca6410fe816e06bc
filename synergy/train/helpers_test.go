package train

import G "gorgonia.org/gorgonia"

func nodeNames(ns G.Nodes) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Name()
	}
	return out
}

func keys[V any](m map[int]V) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	return out
}

// afterBatch returns an Options.OnProgress that calls f after every step of
// the main stage with the epoch and the index of the batch just done (both
// from 0).
func afterBatch(f func(epoch, batch int)) func(Event) {
	return func(e Event) {
		if e.Kind == StepDone && e.Stage == "" {
			f(e.Epoch-1, e.Step-1)
		}
	}
}
