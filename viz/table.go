package viz

import (
	"fmt"
	"html"
	"strings"
)

// Table is a result table: a title naming the data and setting, a header row, body rows of
// already formatted cells, and a note (e.g. "paper numbers from Table 2; ours: synthetic data,
// 3 seeds, mean ± std"). Rows shorter than the widest row or the header are padded with empty
// cells by the renderers; Validate reports them.
type Table struct {
	Title  string
	Header []string
	Rows   [][]string
	Note   string
}

// Validate returns an error when the table has no header or a row's length differs from the
// header's.
func (t Table) Validate() error {
	if len(t.Header) == 0 {
		return fmt.Errorf("viz: table %q: no header", t.Title)
	}
	for i, r := range t.Rows {
		if len(r) != len(t.Header) {
			return fmt.Errorf("viz: table %q: row %d has %d cells, want %d (the header's)", t.Title, i, len(r), len(t.Header))
		}
	}
	return nil
}

// width is the number of columns: the longest of the header and the rows.
func (t Table) width() int {
	n := len(t.Header)
	for _, r := range t.Rows {
		if len(r) > n {
			n = len(r)
		}
	}
	return n
}

// cell returns r[j], or "" past the end of r.
func cell(r []string, j int) string {
	if j < len(r) {
		return r[j]
	}
	return ""
}

// markdownEscaper makes a cell safe inside a GitHub-flavoured Markdown table: HTML special
// characters become entities, pipes and backslashes are escaped, and line breaks become spaces.
var markdownEscaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;",
	`\`, `\\`, "|", `\|`,
	"\r\n", " ", "\n", " ", "\r", " ",
)

// Markdown renders the table as GitHub-flavoured Markdown: the title in bold, the table, then
// the note in italics; empty title or note are left out.
func (t Table) Markdown() string {
	var b strings.Builder
	if t.Title != "" {
		fmt.Fprintf(&b, "**%s**\n\n", markdownEscaper.Replace(t.Title))
	}
	n := t.width()
	row := func(r []string) {
		b.WriteString("|")
		for j := 0; j < n; j++ {
			fmt.Fprintf(&b, " %s |", markdownEscaper.Replace(cell(r, j)))
		}
		b.WriteString("\n")
	}
	row(t.Header)
	b.WriteString("|")
	for j := 0; j < n; j++ {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		row(r)
	}
	if t.Note != "" {
		fmt.Fprintf(&b, "\n*%s*\n", markdownEscaper.Replace(t.Note))
	}
	return b.String()
}

// HTML renders the table as an HTML fragment (a <table> with the title as <caption> and the note
// in a <p> after it), every text HTML-escaped; in a notebook, display.HTML(t.HTML()) shows it.
func (t Table) HTML() string {
	var b strings.Builder
	n := t.width()
	b.WriteString("<table>\n")
	if t.Title != "" {
		fmt.Fprintf(&b, "<caption>%s</caption>\n", html.EscapeString(t.Title))
	}
	b.WriteString("<thead><tr>")
	for j := 0; j < n; j++ {
		fmt.Fprintf(&b, "<th>%s</th>", html.EscapeString(cell(t.Header, j)))
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	for _, r := range t.Rows {
		b.WriteString("<tr>")
		for j := 0; j < n; j++ {
			fmt.Fprintf(&b, "<td>%s</td>", html.EscapeString(cell(r, j)))
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody>\n</table>\n")
	if t.Note != "" {
		fmt.Fprintf(&b, "<p><em>%s</em></p>\n", html.EscapeString(t.Note))
	}
	return b.String()
}
