package train

import (
	"encoding/json"
	"math"
)

// Number is a float64 that encodes NaN and ±Inf as JSON null (and decodes
// null as NaN), for diagnostics that can be undefined (a term switched off,
// a singular covariance).
type Number float64

// NaN is the undefined Number.
func NaN() Number { return Number(math.NaN()) }

// MarshalJSON implements json.Marshaler.
func (x Number) MarshalJSON() ([]byte, error) {
	f := float64(x)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

// UnmarshalJSON implements json.Unmarshaler.
func (x *Number) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*x = NaN()
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*x = Number(f)
	return nil
}
