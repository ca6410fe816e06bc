package train

import (
	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/internal/testmodel"
	"github.com/synergo/synergo/synergy/models"
)

// newPoolModel builds the tiny pool model of the tests (testmodel.Pool).
func newPoolModel(ds *datasets.Dataset, seed uint64) (models.Model, error) {
	return testmodel.NewPool(DimsOf(ds), seed), nil
}
