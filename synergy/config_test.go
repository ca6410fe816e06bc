package synergy

import (
	"reflect"
	"strings"
	"testing"
)

func TestOverride(t *testing.T) {
	c := DefaultConfig(DivergenceMMD)
	if err := c.Override("beta=0.01, gamma_kappa=0.5,divergence=kl,use_l2=false,bandwidth_multipliers=0.25;4,q_hidden=32"); err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig(DivergenceMMD)
	want.Beta, want.GammaKappa, want.Divergence, want.UseL2 = 0.01, 0.5, DivergenceKL, false
	want.BandwidthMultipliers, want.QHidden = []float64{0.25, 4}, 32
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %v\nwant %v", c, want)
	}
	for _, bad := range []struct{ spec, msg string }{
		{"betta=1", "unknown regularizer setting"},
		{"beta=x", "want a finite number"},
		{"beta=nan", `setting beta="nan": want a finite number`},
		{"gamma_kappa=-Inf", `setting gamma_kappa="-Inf": want a finite number`},
		{"bandwidth_multipliers=1;NaN", `setting bandwidth_multipliers="1;NaN": want finite numbers`},
		{"use_l2=maybe", "want true or false"},
		{"beta", "want key=value"},
		{"divergence=js", "unknown divergence"},
		{"bandwidth_multipliers=1;a", "separated by ';'"},
	} {
		before := c
		err := c.Override(bad.spec)
		if err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("%q: got %v, want an error containing %q", bad.spec, err, bad.msg)
		}
		if !reflect.DeepEqual(c, before) {
			t.Errorf("%q: config changed on error", bad.spec)
		}
	}
}
