package grid

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/synergo/synergo/synergy/train"
)

// TestMain doubles as a process that holds a folder's lock: with
// GRID_TEST_HOLD_LOCK=DIR it takes the lock of DIR, says "locked" and
// waits to be killed.
func TestMain(m *testing.M) {
	if dir := os.Getenv("GRID_TEST_HOLD_LOCK"); dir != "" {
		if _, err := lockFolder(dir); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("locked")
		select {}
	}
	os.Exit(m.Run())
}

// oneSettingGrid is tinyGrid with one batch size and learning rate: a cell
// is one run.
func oneSettingGrid(out string, built *atomic.Int64) Options {
	o := tinyGrid(out, built)
	o.BatchSizes, o.LearningRates = []int{16}, []float64{5e-3}
	return o
}

// TestGridNeverReturnsStaleResults reruns a grid into the same folder with
// one option changed at a time: each change must train new runs and append
// new records beside the old ones (never "already in results"), and the
// tables must keep the settings apart, naming the option that differs.
func TestGridNeverReturnsStaleResults(t *testing.T) {
	ds := tinyMOSI(t, 0.05)
	out := t.TempDir()
	var built atomic.Int64
	if _, err := Grid(context.Background(), ds, oneSettingGrid(out, &built)); err != nil {
		t.Fatal(err)
	}
	wd := 0.02
	for _, tc := range []struct {
		option string
		change func(*Options)
		label  string // in the table's Setting or the row's label
	}{
		{"max epochs", func(o *Options) { o.Base.MaxEpochs = 3 }, "max_epochs=3"},
		{"patience", func(o *Options) { o.Base.Patience = 1 }, "patience=1"},
		{"clip value", func(o *Options) { o.Base.ClipValue = 1 }, "clip_value=1"},
		{"clip norm", func(o *Options) { o.Base.ClipNorm = 2 }, "clip_norm=2"},
		{"loss", func(o *Options) { o.Base.Loss = train.LossL1 }, "loss=l1"},
		{"weight decay", func(o *Options) { o.Base.WeightDecay = &wd }, "weight_decay=0.02"},
		{"regularizer setting", func(o *Options) { o.RegBase.Beta *= 10 }, "NLL+S_MMD (stable) (beta="},
	} {
		o := oneSettingGrid(out, &built)
		tc.change(&o)
		built.Store(0)
		recs, err := Grid(context.Background(), ds, o)
		if err != nil {
			t.Fatalf("%s: %v", tc.option, err)
		}
		wantNew := 2 // both cells (none, mmd) differ
		if tc.option == "regularizer setting" {
			wantNew = 1 // the none cell is the same
		}
		if len(recs) != wantNew || built.Load() != int64(wantNew) {
			t.Errorf("changed %s: %d new records, %d models built; want %d and %d", tc.option, len(recs), built.Load(), wantNew, wantNew)
		}
		all, err := ReadRecords(filepath.Join(out, ResultsFile))
		if err != nil {
			t.Fatal(err)
		}
		var md bytes.Buffer
		if err := WriteTables(&md, Tables(all, nil), "md"); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(md.String(), tc.label) {
			t.Errorf("changed %s: the tables do not name %q:\n%s", tc.option, tc.label, md.String())
		}
	}
	all, err := ReadRecords(filepath.Join(out, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, r := range all {
		if keys[r.Key()] {
			t.Errorf("two records with key %s", r.Key())
		}
		keys[r.Key()] = true
	}
	tables := Tables(all, nil)
	if len(tables) != 7 { // the first grid and six changed training settings; beta is a row
		t.Errorf("%d tables, want 7", len(tables))
	}
	rows := 0
	for _, tab := range tables {
		rows += len(tab.Rows)
		if tab.Setting == "" {
			t.Errorf("table of %d rows has no setting label among 7 settings of one source", len(tab.Rows))
		}
	}
	if rows != len(all) {
		t.Errorf("the tables have %d rows for %d records of one seed each: records were merged", rows, len(all))
	}

	// Rerunning any of them trains nothing.
	built.Store(0)
	o := oneSettingGrid(out, &built)
	o.Base.Patience = 1
	if recs, err := Grid(context.Background(), ds, o); err != nil || len(recs) != 0 || built.Load() != 0 {
		t.Errorf("rerun: %d records, %d built, err %v; want 0, 0, nil", len(recs), built.Load(), err)
	}
}

// TestPlanPassesEveryOption sets every field of train.Options that can
// change a result (train.Options.Setting) in the grid's Base: each planned
// run must carry it to its train.Options, and two plans that differ in any
// one of them must have different run IDs.
func TestPlanPassesEveryOption(t *testing.T) {
	var built atomic.Int64
	o := oneSettingGrid("", &built)
	o.Regs = []string{"mmd"}
	base, err := Plan(tinyPlanData, o)
	if err != nil {
		t.Fatal(err)
	}
	perRun := map[string]bool{"Model": true, "Regularizer": true, "Seed": true, "BatchSize": true, "LearningRate": true}
	// The model options need a model of the registry that takes them.
	modelOptions := map[string]struct{ model, value string }{
		"ModelSet": {"tfn", "apply_text_dropout=true"},
		"Bert":     {"magbert", "/bert/checkpoint"},
	}
	for _, f := range reflect.VisibleFields(reflect.TypeOf(train.Options{})) {
		tag := f.Tag.Get("json")
		if tag == "-" || perRun[f.Name] {
			continue
		}
		changed, before := o, base
		v := reflect.ValueOf(&changed.Base).Elem().FieldByIndex(f.Index)
		switch mo, ok := modelOptions[f.Name]; {
		case ok:
			changed.Models, changed.Base.NewModel = []string{mo.model}, nil
			var err error
			if before, err = Plan(tinyPlanData, changed); err != nil {
				t.Fatalf("Options.%s: %v", f.Name, err)
			}
			v.SetString(mo.value)
		case v.Kind() == reflect.Int:
			v.SetInt(3)
		case v.Kind() == reflect.Float64:
			v.SetFloat(0.25)
		case v.Kind() == reflect.String:
			v.SetString("l1")
		case v.Kind() == reflect.Pointer:
			v.Set(reflect.New(v.Type().Elem()))
		default:
			t.Fatalf("Options.%s: no test value for kind %s; extend the test", f.Name, v.Kind())
		}
		runs, err := Plan(tinyPlanData, changed)
		if err != nil {
			t.Fatalf("Options.%s: %v", f.Name, err)
		}
		got := reflect.ValueOf(runs[0].options(train.Options{}, "")).FieldByIndex(f.Index)
		if !reflect.DeepEqual(got.Interface(), v.Interface()) {
			t.Errorf("Options.%s = %v in Base, %v in the planned run's options", f.Name, v.Interface(), got.Interface())
		}
		if runs[0].ID == before[0].ID {
			t.Errorf("Options.%s changed, the run ID %s did not", f.Name, runs[0].ID)
		}
		if runs[0].CellKey() == before[0].CellKey() {
			t.Errorf("Options.%s changed, the cell key did not", f.Name)
		}
	}
}

// TestGridLocksTheFolder: a second Grid in a folder another process is
// using fails at once, naming the holder; the lock is released on every
// return of Grid (here an interrupted one) and with its process (here
// killed by SIGKILL), whatever lock file it leaves.
func TestGridLocksTheFolder(t *testing.T) {
	ds := tinyMOSI(t, 0.05)
	out := t.TempDir()
	var built atomic.Int64
	o := oneSettingGrid(out, &built)

	unlock, err := lockFolder(out)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Grid(context.Background(), ds, o)
	if want := fmt.Sprintf("in use by another synergo process (pid %d, since", os.Getpid()); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Grid in a locked folder: %v, want an error containing %q", err, want)
	}
	plan, err := Plan(ds.Source, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := WritePlan(out, plan); err != nil {
		t.Fatal(err)
	}
	if _, err := Collect(out); err == nil || !strings.Contains(err.Error(), "in use by another synergo process") {
		t.Errorf("Collect in a locked folder: %v, want an error saying it is in use", err)
	}
	if err := os.Remove(filepath.Join(out, PlanFile)); err != nil {
		t.Fatal(err)
	}
	unlock()
	if built.Load() != 0 {
		t.Errorf("the refused grid built %d models", built.Load())
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Grid(ctx, ds, o); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled grid: %v", err)
	}

	// A process that holds the lock and dies leaves the file but not the
	// lock.
	holder := exec.Command(os.Args[0], "-test.run=^$")
	holder.Env = append(os.Environ(), "GRID_TEST_HOLD_LOCK="+out)
	stdout, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "locked\n" {
		holder.Process.Kill()
		t.Fatalf("lock holder said %q", line)
	}
	_, err = Grid(context.Background(), ds, o)
	if want := fmt.Sprintf("(pid %d, since", holder.Process.Pid); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Grid while another process holds the lock: %v, want an error naming %q", err, want)
	}
	holder.Process.Kill()
	holder.Wait()
	if _, err := os.Stat(filepath.Join(out, FolderLockFile)); err != nil {
		t.Fatalf("the lock file is gone: %v", err)
	}
	if _, err := Grid(context.Background(), ds, o); err != nil {
		t.Fatalf("Grid after the holder was killed: %v", err)
	}
}

// TestDamagedRunResultIsAnError flips a byte in the body of a finished
// run's result file: Grid and Collect must refuse it, naming the file and
// the way out; with Restart the run is trained again.
func TestDamagedRunResultIsAnError(t *testing.T) {
	ds := tinyMOSI(t, 0.05)
	out := t.TempDir()
	var built atomic.Int64
	o := oneSettingGrid(out, &built)
	o.Regs = []string{"none"}
	if _, err := Grid(context.Background(), ds, o); err != nil {
		t.Fatal(err)
	}
	runs, err := Plan(ds.Source, o)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(out, PlanRunsDir, runs[0].ID+".json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var env struct{ Body json.RawMessage }
	if err := json.Unmarshal(b, &env); err != nil || len(env.Body) == 0 {
		t.Fatalf("the result file is not sealed: %v\n%s", err, b)
	}
	i := bytes.Index(b, []byte(`"MAE":`)) + len(`"MAE":`) + 2 // the first decimal of x.yyy
	if i < 8 || b[i] < '0' || b[i] > '9' {
		t.Fatalf("no MAE value to change in %s", b)
	}
	b[i] = '0' + (b[i]-'0'+1)%10 // another digit: still valid JSON
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(out, ResultsFile)) // so that the grid reads the run back
	_, err = Grid(context.Background(), ds, o)
	for _, want := range []string{path, "SHA-256 checksum mismatch", "delete it to train the run again, or rerun with --restart-setting"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Grid with a damaged result file: %v, want an error containing %q", err, want)
		}
	}
	built.Store(0)
	o.Base.Restart = true
	if recs, err := Grid(context.Background(), ds, o); err != nil || len(recs) != 1 || built.Load() != 1 {
		t.Errorf("with Restart: %d records, %d built, err %v; want 1, 1, nil", len(recs), built.Load(), err)
	}
}
