// Package viz draws synergo's diagnostics and result tables with gonum/plot: the Mardia kurtosis
// of each representation over epochs (the L_κ term, paper §2.3 and §4.1), the MMD² between projected
// unimodal and fused features over epochs (the L_d term), training curves, grouped result bars
// with mean ± std error bars, scatter plots (2-D views of g_i(R_i Z_i) against g_i(R̃_i Z), a
// reconstruction against the truth), histogram overlays, and Markdown/HTML tables.
//
// viz reads results and estimator output; it never trains. Its API is plain functions and
// structs without type parameters, because the notebook interpreter skips generic symbols.
//
// # Figures
//
// Every figure function returns a *Figure in one style, so that a reader can trust a figure at a
// glance:
//
//   - The caption's first line is the title (what is plotted); the rest names the data that
//     produced the figure (for example "synthetic MOSI-shaped data, seed 1, quick scale" or
//     "CMU-MOSI aligned features, 5 seeds") and is drawn as a smaller subtitle: a figure without
//     its data's name is not evidence of anything. An empty caption is an error. Title and
//     subtitle wrap to the width the figure is rendered at, measured with the figure font, and
//     are shortened with "…" beyond 3 and 2 lines.
//   - Axis labels name the quantity ("actual Z_audio (coordinate 3)", not "x"); an empty one is
//     an error. They wrap to the length of their axis.
//   - The legend sits below the axes, in as many columns as fit, never on the data; a name too
//     long for the page is shortened with "…".
//   - A training setting has one colour in every figure (SettingKey, SettingColor: NLL grey,
//     NLL+S_MMD blue, NLL+S_KL vermillion, NLL+I_Was purple, the single-term ablations green,
//     indigo, wine and olive; the "stable" variant of a regularizer the lighter colour of its
//     pair). Other series take colour-blind-safe colours in order. A colour always has the same
//     marker; the same setting twice in one figure is drawn dashed (lines) or hatched (bars).
//   - Figures are DefaultWidth × DefaultHeight (8 × 5.5 in, 768 × 528 pixels) by default.
//
// Render turns a figure into an image.Image (what a notebook passes to display.Image); Save and
// Encode write PNG, SVG or PDF; SavePNGSVG writes both PNG and SVG; a Gallery does what a
// notebook needs: show each figure and, when its Dir is set, keep it as PNG and SVG.
package viz
