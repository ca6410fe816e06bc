package train

// Stream constants separate the generators derived from one run seed, so
// that, e.g., the dropout masks of a batch do not depend on how many numbers
// the batch order consumed.
const (
	streamModel       = 0x6d6f64656c // "model": model initialization
	streamRegularizer = 0x636e6574   // "cnet": C-network initialization
	streamOrder       = 0x6f72646572 // "order": batch order of an epoch
	streamDropout     = 0x64726f70   // "drop": dropout masks of a batch
	streamDiagnostic  = 0x64696167   // "diag": diagnostic projections
)

// mix is the SplitMix64 finalizer: a bijection of uint64 that spreads close
// inputs (seed, seed+1, …) over the whole range.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// derivedSeed returns a seed for the given stream of the run seed, mixed
// with the coordinates (e.g. epoch and batch index) it is used at.
func derivedSeed(seed, stream uint64, coords ...uint64) uint64 {
	s := mix(seed ^ mix(stream))
	for _, c := range coords {
		s = mix(s ^ mix(c+0x51ed27))
	}
	return s
}

// epochOrderSeed is the seed split.Batches shuffles epoch epoch with
// (non-negative, as Batches treats a negative seed as "keep the order").
func epochOrderSeed(seed uint64, epoch int) int64 {
	return int64(derivedSeed(seed, streamOrder, uint64(epoch)) >> 1)
}

// dropoutSeeds are the seeds of the PCG that draws the dropout masks of
// batch batch of epoch epoch (nn.Graph.SampleMasksPCG; the stream of
// rand.NewPCG(s, mix(s))).
func dropoutSeeds(seed uint64, epoch, batch int) (uint64, uint64) {
	s := derivedSeed(seed, streamDropout, uint64(epoch), uint64(batch))
	return s, mix(s)
}
