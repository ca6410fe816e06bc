package viz

import (
	"os"
	"strings"
	"testing"
)

func smallTable() Table {
	return Table{
		Title:  "MOSI-shaped synthetic data, 3 seeds",
		Header: []string{"model", "MAE", "Acc-2"},
		Rows: [][]string{
			{"TFN", "0.901 ± 0.010", "0.80"},
			{"TFN + synergy", "0.880 ± 0.012", "0.81"},
			{"a|b", "x\ny"},
		},
		Note: "paper: TFN MAE 0.901 (Table 2)",
	}
}

func TestMarkdownGolden(t *testing.T) {
	want, err := os.ReadFile("testdata/small_table.md")
	if err != nil {
		t.Fatal(err)
	}
	if got := smallTable().Markdown(); got != string(want) {
		t.Errorf("Markdown() =\n%s\nwant (testdata/small_table.md)\n%s", got, want)
	}
}

func TestTableEscapesHTML(t *testing.T) {
	tab := Table{
		Title:  `<script>alert("t")</script>`,
		Header: []string{"a&b", "<i>"},
		Rows:   [][]string{{`"q"`, "x<y>z"}},
		Note:   "</table>",
	}
	h := tab.HTML()
	for _, bad := range []string{"<script>", "<i>", "x<y>", "</table>\n</table>", "a&b"} {
		if strings.Contains(h, bad) {
			t.Errorf("HTML() contains unescaped %q:\n%s", bad, h)
		}
	}
	for _, good := range []string{"&lt;script&gt;", "a&amp;b", "&lt;i&gt;", "&#34;q&#34;", "x&lt;y&gt;z", "<p><em>&lt;/table&gt;</em></p>"} {
		if !strings.Contains(h, good) {
			t.Errorf("HTML() lacks %q:\n%s", good, h)
		}
	}
	md := tab.Markdown()
	if strings.Contains(md, "<script>") || strings.Contains(md, "<i>") {
		t.Errorf("Markdown() contains raw HTML:\n%s", md)
	}
}

func TestTableValidate(t *testing.T) {
	if err := smallTable().Validate(); err == nil || !strings.Contains(err.Error(), "row 2 has 2 cells, want 3") {
		t.Errorf("Validate() = %v, want the ragged row named", err)
	}
	ok := smallTable()
	ok.Rows = ok.Rows[:2]
	if err := ok.Validate(); err != nil {
		t.Errorf("Validate() = %v, want nil", err)
	}
	if err := (Table{Title: "x"}).Validate(); err == nil {
		t.Error("Validate() of a table without header: want an error")
	}
}

func TestHTMLPadsRaggedRows(t *testing.T) {
	h := smallTable().HTML()
	if got := strings.Count(h, "<td>"); got != 9 {
		t.Errorf("%d <td> cells, want 9 (3 rows × 3 columns)", got)
	}
	if !strings.Contains(h, "<caption>MOSI-shaped synthetic data, 3 seeds</caption>") {
		t.Errorf("no caption in:\n%s", h)
	}
}
