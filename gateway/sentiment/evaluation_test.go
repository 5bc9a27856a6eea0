package sentiment

import (
	"bufio"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Floors for the negative class's F1 on the held-out evaluation set: the aims
// (≥ 0.80 English, ≥ 0.75 Spanish), the Spanish one raised to what was measured when they
// were set (English 0.808, Spanish 0.821; P 0.945/0.917, R 0.705/0.743), so that a change
// that loses ground on the held-out set fails here. The scorer is deterministic: these do
// not flake.
const (
	evalFloorEN = 0.80
	evalFloorES = 0.80
)

type labelled struct {
	Text  string   `json:"text"`
	Label string   `json:"label"`
	Kind  string   `json:"kind"`
	Tags  []string `json:"tags"`
}

func readJSONL(t *testing.T, path string) ([]labelled, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var r labelled
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s line %d: %v", path, line, err)
		}
		switch r.Label {
		case Negative, Neutral, Positive:
		default:
			t.Fatalf("%s line %d: label %q", path, line, r.Label)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return out, nil
}

type prf struct {
	tp, fp, fn, n int
	correct       int // all three labels
}

func (m prf) precision() float64 { return ratio(m.tp, m.tp+m.fp) }
func (m prf) recall() float64    { return ratio(m.tp, m.tp+m.fn) }
func (m prf) f1() float64 {
	p, r := m.precision(), m.recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}
func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// measure scores every record with the language given (as intake would with a known
// locale) and with detection, returning the metrics of the detected run (the harder one)
// and logging misses when verbose.
func measure(t *testing.T, a *Analyzer, recs []labelled, lang string, verbose bool) prf {
	t.Helper()
	var m prf
	wrongLang := 0
	for _, r := range recs {
		res := a.Analyze(r.Text)
		if res.Language != lang {
			wrongLang++
		}
		m.n++
		if res.Label == r.Label {
			m.correct++
		}
		got, want := res.Label == Negative, r.Label == Negative
		switch {
		case got && want:
			m.tp++
		case got && !want:
			m.fp++
		case !got && want:
			m.fn++
		}
		if verbose && res.Label != r.Label {
			t.Logf("  miss want=%-8s got=%-8s %+.3f %s cues=%v %q", r.Label, res.Label, res.Score, res.Language, res.Cues, r.Text)
		}
	}
	t.Logf("  language detected wrong on %d of %d", wrongLang, len(recs))
	return m
}

// evalSets are the labelled sets TestEvaluation measures: dev and train (tuned on, report
// only) and the held-out eval set (floored).
var evalSets = []struct {
	file, lang string
	floor      float64 // < 0: report only
}{
	{"dev_en.jsonl", English, -1},
	{"dev_es.jsonl", Spanish, -1},
	{"train_en.jsonl", English, -1},
	{"train_es.jsonl", Spanish, -1},
	{"eval_en.jsonl", English, evalFloorEN},
	{"eval_es.jsonl", Spanish, evalFloorES},
}

// TestEvaluationCoversEveryFile keeps evalSets and testdata/ in step: a labelled file
// nobody measures is a set silently ignored.
func TestEvaluationCoversEveryFile(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, s := range evalSets {
		known[s.file] = true
	}
	for _, f := range files {
		if !known[filepath.Base(f)] {
			t.Errorf("testdata/%s is not in evalSets: TestEvaluation does not measure it", filepath.Base(f))
		}
	}
}

// TestEvaluation reports precision, recall and F1 of the negative class per language on
// the held-out evaluation set (failing under the floors) and on the development and
// training sets the scorer was tuned on (reported only). HUSH_EVAL_VERBOSE=1 lists the
// misses of the dev and train sets (never of the held-out set).
func TestEvaluation(t *testing.T) {
	a, err := New(Options{Competitors: []string{"Movistar", "Vodafone", "Orange", "Digi", "Comcast", "Verizon", "AT&T", "T-Mobile"}})
	if err != nil {
		t.Fatal(err)
	}
	verbose := os.Getenv("HUSH_EVAL_VERBOSE") != ""
	for _, set := range evalSets {
		t.Run(set.file, func(t *testing.T) {
			recs, err := readJSONL(t, filepath.Join("testdata", set.file))
			if errors.Is(err, fs.ErrNotExist) {
				t.Skipf("testdata/%s is not there yet: nothing to measure", set.file)
			}
			if err != nil {
				t.Fatal(err)
			}
			m := measure(t, a, recs, set.lang, verbose && set.floor < 0)
			t.Logf("%s: %d texts, negative class P=%.3f R=%.3f F1=%.3f (tp=%d fp=%d fn=%d); 3-label accuracy %.3f",
				set.file, m.n, m.precision(), m.recall(), m.f1(), m.tp, m.fp, m.fn, ratio(m.correct, m.n))
			if set.floor >= 0 && m.f1() < set.floor {
				t.Errorf("%s: negative-class F1 %.3f is under the floor %.2f", set.file, m.f1(), set.floor)
			}
		})
	}
}
