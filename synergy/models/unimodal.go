package models

import (
	"fmt"
	"math/rand/v2"

	"github.com/synergo/synergo/datasets/multimodal"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
)

// unimodalNets are the three pre-fusion sub-networks shared by TFN and LMF:
// an LSTM text sub-network on the word sequence and MLP sub-networks on the
// time-averaged audio and vision features. Their outputs are Z_t, Z_a, Z_v.
type unimodalNets struct {
	model         string
	dims          Dims
	text          *textSubNet
	audio, vision *featureSubNet
}

// unimodalSizes are the widths and dropout probabilities of unimodalNets:
// the fields of the same names in TFNConfig and LMFConfig.
type unimodalSizes struct {
	textHidden, textOut, audioHidden, visionHidden int
	textDropout, audioDropout, visionDropout       float64
	// applyTextDropout is ApplyTextDropout: without it the text
	// sub-network runs without dropout, as MMSA's does (textSubNet).
	applyTextDropout bool
}

// sizeFields returns TextHidden, AudioHidden, VisionHidden and TextOut, in
// the order the configurations check them.
func (u unimodalSizes) sizeFields() []intField {
	return []intField{{"TextHidden", u.textHidden}, {"AudioHidden", u.audioHidden},
		{"VisionHidden", u.visionHidden}, {"TextOut", u.textOut}}
}

// dropoutFields returns AudioDropout, VisionDropout and TextDropout, in the
// order the configurations check them.
func (u unimodalSizes) dropoutFields() []probField {
	return []probField{{"AudioDropout", u.audioDropout}, {"VisionDropout", u.visionDropout},
		{"TextDropout", u.textDropout}}
}

func newUnimodalNets(model string, ps, buffers *nn.ParamSet, dims Dims, u unimodalSizes, rng *rand.Rand) *unimodalNets {
	textDropout := 0.0
	if u.applyTextDropout {
		textDropout = u.textDropout
	}
	return &unimodalNets{
		model:  model,
		dims:   dims,
		text:   newTextSubNet(ps, model+".text", dims.D[multimodal.Text], u.textHidden, u.textOut, textDropout, rng),
		audio:  newFeatureSubNet(ps, buffers, model+".audio", dims.D[multimodal.Audio], u.audioHidden, u.audioDropout, rng),
		vision: newFeatureSubNet(ps, buffers, model+".vision", dims.D[multimodal.Vision], u.visionHidden, u.visionDropout, rng),
	}
}

// build creates the input nodes (text (B, T, D), its mask (B, T), audio and
// vision time means (B, D)) and returns Z_t, Z_a, Z_v.
func (u *unimodalNets) build(g *nn.Graph, batch int) ([]*G.Node, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("models: %s: batch size %d, want > 0", u.model, batch)
	}
	tT, tD := u.dims.T[multimodal.Text], u.dims.D[multimodal.Text]
	text := g.Input(inputName(u.model, "text"), batch, tT, tD)
	mask := g.Input(inputName(u.model, "text_mask"), batch, tT)
	audio := g.Input(inputName(u.model, "audio_mean"), batch, u.dims.D[multimodal.Audio])
	vision := g.Input(inputName(u.model, "vision_mean"), batch, u.dims.D[multimodal.Vision])
	zt, err := u.text.forward(g, text, mask)
	if err != nil {
		return nil, fmt.Errorf("models: %s: text sub-network: %w", u.model, err)
	}
	za, err := u.audio.forward(g, audio)
	if err != nil {
		return nil, fmt.Errorf("models: %s: audio sub-network: %w", u.model, err)
	}
	zv, err := u.vision.forward(g, vision)
	if err != nil {
		return nil, fmt.Errorf("models: %s: vision sub-network: %w", u.model, err)
	}
	return []*G.Node{zt, za, zv}, nil
}

// feed sets the inputs of build from b: the text sequence and its length
// mask, and the batch-normalized time means of audio and vision (batch
// statistics in a training graph, running estimates otherwise).
func (u *unimodalNets) feed(g *nn.Graph, b *multimodal.Batch) error {
	text, err := inputNode(g, u.model, inputName(u.model, "text"))
	if err != nil {
		return err
	}
	batch := text.Shape()[0]
	if err := checkBatch(u.model, b, batch, u.dims); err != nil {
		return err
	}
	ts := b.Features[multimodal.Text]
	if err := letSequence(g, text, u.model, multimodal.Text, ts); err != nil {
		return err
	}
	if err := feedInput(g, u.model, "text_mask", nn.LengthMask(ts.Lengths, ts.T)); err != nil {
		return err
	}
	for _, m := range []struct {
		mod  multimodal.Modality
		name string
		net  *featureSubNet
	}{{multimodal.Audio, "audio_mean", u.audio}, {multimodal.Vision, "vision_mean", u.vision}} {
		s := b.Features[m.mod]
		v, err := sequenceValues(u.model, m.mod, s)
		if err != nil {
			return err
		}
		xhat := m.net.norm.normalize(timeMean(v, s.N, s.T, s.D), s.N, 1, g.Train)
		if err := feedInput(g, u.model, m.name, xhat); err != nil {
			return err
		}
	}
	return nil
}
