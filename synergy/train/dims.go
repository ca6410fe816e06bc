package train

import (
	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/models"
)

// DimsOf returns the input sizes of the training split of d that a model is
// built for (models.Dims): per modality the padded sequence length T and
// the feature size D, the task, and the width of the token-id rows (0
// without token ids).
func DimsOf(d *datasets.Dataset) models.Dims {
	var dims models.Dims
	dims.Task = d.Task
	for m := 0; m < datasets.NumModalities; m++ {
		if s := d.Train.Features[m]; s != nil {
			dims.T[m], dims.D[m] = s.T, s.D
		}
	}
	if len(d.Train.TokenIDs) > 0 {
		dims.TokenLen = len(d.Train.TokenIDs[0])
	}
	return dims
}
