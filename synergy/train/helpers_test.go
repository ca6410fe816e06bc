package train

import G "gorgonia.org/gorgonia"

func nodeNames(ns G.Nodes) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Name()
	}
	return out
}
