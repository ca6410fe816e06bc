// Package viz draws synergo's diagnostics and result tables with gonum/plot: the Mardia kurtosis
// of each representation over epochs (the L_κ term, paper §2.3 and §4.1), the MMD² between projected
// unimodal and fused features over epochs (the L_d term), training curves, grouped result bars
// with mean ± std error bars, 2-D views of g_i(R_i Z_i) against g_i(R̃_i Z), histogram overlays,
// and Markdown/HTML tables.
//
// viz reads results and estimator output; it never trains. Its API is plain functions and
// structs without type parameters, because the notebook interpreter skips generic symbols.
//
// Every figure function takes a caption, drawn as the plot title. The caller must name in it the
// data that produced the figure (for example "synthetic MOSI-shaped data, seed 1, quick scale"
// or "CMU-MOSI aligned features, 5 seeds"): a figure without its data's name is not evidence of
// anything. An empty caption is an error.
//
// A figure is a *plot.Plot; Render turns it into an image.Image (what a notebook passes to
// display.Image), and Save writes it as PNG, SVG or PDF.
package viz
