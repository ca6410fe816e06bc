#!/usr/bin/env bash
# The evidence studies of issue 13 as sharded, resumable grid plans (synergo grid plan/run/collect):
#
#   (a) mechanism: does each term of the regularizer move its own held-out diagnostic?
#       models eflstm, tfn, lmf, mfn × {NLL; L2 alone; L_d alone with MMD; L_d alone with KL; L_κ alone;
#       all terms with MMD; all terms with KL} × the regularizer's variants (paper, stable)
#       × 5 seeds, paired with NLL; and each MMD term alone in the stable variant at β × 10 and × 100; and L_d
#       alone (MMD, stable) with the C-network's invertible networks g_i frozen at their initialization, at the
#       default β, × 10 and × 100 (does the trained g_i absorb the alignment L_d asks for?).
#   (b) knobs: when does the regularizer help? one fast model (lmf) × {NLL, S_MMD} × 5 seeds on worlds of the
#       synthetic generator's premise knobs (datasets/SYNTHETIC.md): shared ∈ {1, 0.5, 0.25} with the label in the
#       shared part, shared ∈ {0.5, 0.25, 0} with the label in the private parts, Gaussian and ν = 5 tails, 2 %
#       outliers. Test-time modality dropout is reported by every run (test_corrupted: T, T+V, T+A).
#   (c) variant: why does the paper variant fail where the stable one does not? one fast model (lmf) on the
#       reference protocol's MOSI stand-in (synth:mosi:1, at most 50 epochs, the training setting of
#       results/reference/tables2-3, so its rows pair with that folder's NLL and paper runs of the same seeds) ×
#       the paper variant with one of its choices changed to the stable variant's (kl_bound=dv, standardize,
#       detach_targets), with β divided by 1000, or with one term alone × 5 seeds.
#
# Usage:
#   scripts/evidence/study.sh plan OUT        write every plan folder under OUT/mechanism and OUT/knobs (idempotent)
#   scripts/evidence/study.sh run OUT I N     train shard I of N (0 ≤ I < N) of every plan under OUT; start N of
#                                             these (one per core) and rerun any that stops: finished runs are
#                                             skipped, an interrupted run resumes from its checkpoint
#   scripts/evidence/study.sh collect OUT     collect every plan (grid collect) and write OUT/mechanism.md,
#                                             OUT/knobs.md (synergo table --layout mechanism|knobs) and
#                                             OUT/variant.md (synergo table, beside $VARIANT_REF when it exists)
#   scripts/evidence/study.sh count OUT       print how many runs each plan holds
#   scripts/evidence/study.sh publish OUT DEST  copy the finished records, plan commands and tables to DEST with a
#                                             README (commit, machine, CPU-hours, counts): results/evidence
#
# Reduced protocol (why): one batch size and learning rate (32, 1e-3) instead of appendix C's 2 × 5 grid — the
# comparison is paired per seed at equal hyper-parameters, which isolates the term's effect from the selection
# noise of a grid and costs a tenth; at most 30 epochs with patience 8. The mechanism study runs on the MOSI
# stand-in at half size (642/115/343 clips): the validation split keeps n ≥ 10·p for the 4-d kurtosis diagnostic
# (115 ≥ 40) and a test sample is 0.29 points of Acc2, at half the cost of full size. The knob study's one model,
# LMF, is cheap enough for full size (1284/229/686 clips: a test sample is 0.15 points).
#
# Cost, measured for results/evidence (2 cores, one shard per core, GOMAXPROCS=1; early stopping ends most runs in
# 10–25 epochs): 585 runs in 3.35 CPU-hours — TFN's 95 mechanism runs 1.05, EF-LSTM's 0.41, the knob study 0.23,
# the variant study 0.19, the frozen-g follow-up of LMF, MFN and EF-LSTM with its re-runs 0.6.
#
# Environment (defaults in brackets):
#   SYNERGO        the synergo binary [synergo on PATH]
#   SEEDS          training seeds [1111,1112,1113,1114,1115]
#   EPOCHS BATCH LR                                [30, 32, 1e-3]
#   MECH_MODELS    [eflstm,tfn,lmf,mfn]
#   MECH_DATA      [synth:mosi:0.5]
#   MECH_SETTINGS  space-separated REG or REG:TERMS [none mmd:l2 mmd:d kl:d mmd:kappa mmd kl]
#   VARIANTS       regularizer variants [stable paper]
#   MECH_BETAS     larger β for each MMD term alone in the stable variant (its default: 0.1) [1 10]
#   FROZEN_MODELS  models whose MMD L_d alone also runs with the g_i frozen (freeze_flows=true) [eflstm,tfn,lmf,mfn]
#   FROZEN_BETAS   its β values [0.1 1 10]
#   CONTROL_BETA   a β so small that L_d alone barely reaches the model, run with frozen and with trained g_i,
#                  whose reg_d is the yardstick of the frozen runs' [1e-06]
#   KNOB_MODEL     [lmf]
#   KNOB_DATA      synth:PRESET:SCALE:SEED the worlds extend [synth:mosi:1:0]
#   KNOB_WORLDS    space-separated knob lists, "default" for none
#                  [default shared=0.5 shared=0.25 shared=0.5,labelshared=0 shared=0.25,labelshared=0
#                   shared=0,labelshared=0 tails=inf tails=5 outliers=0.02]
#   KNOB_VARIANT   the variant of the knob study's S_MMD [stable]
#   STUDIES        the studies to plan [mechanism knobs variant]
#   VARIANT_MODEL VARIANT_DATA VARIANT_EPOCHS     [lmf, synth:mosi:1, 50]
#   VARIANT_SETTINGS  space-separated REG[:TERMS][/KEY=VALUE], each in the paper variant
#                  [kl/kl_bound=dv mmd/standardize=true mmd/detach_targets=true mmd/beta=0.0001
#                   kl/standardize=true mmd:d mmd:l2 kl:d]
#   VARIANT_REF    the folder whose NLL and paper runs the variant rows pair with [results/reference/tables2-3]
#   COMMIT         the commit publish names as the one that trained the runs [git rev-parse HEAD]
set -euo pipefail

SYNERGO=${SYNERGO:-synergo}
SEEDS=${SEEDS:-1111,1112,1113,1114,1115}
EPOCHS=${EPOCHS:-30}
BATCH=${BATCH:-32}
LR=${LR:-1e-3}
MECH_MODELS=${MECH_MODELS:-eflstm,tfn,lmf,mfn}
MECH_DATA=${MECH_DATA:-synth:mosi:0.5}
MECH_SETTINGS=${MECH_SETTINGS:-none mmd:l2 mmd:d kl:d mmd:kappa mmd kl}
MECH_BETAS=${MECH_BETAS-1 10}
FROZEN_MODELS=${FROZEN_MODELS-eflstm,tfn,lmf,mfn}
FROZEN_BETAS=${FROZEN_BETAS-0.1 1 10}
CONTROL_BETA=${CONTROL_BETA:-1e-06}
KNOB_MODEL=${KNOB_MODEL:-lmf}
KNOB_DATA=${KNOB_DATA:-synth:mosi:1:0}
VARIANTS=${VARIANTS:-stable paper}
KNOB_VARIANT=${KNOB_VARIANT:-stable}
KNOB_WORLDS=${KNOB_WORLDS:-default shared=0.5 shared=0.25 shared=0.5,labelshared=0 shared=0.25,labelshared=0 shared=0,labelshared=0 tails=inf tails=5 outliers=0.02}
STUDIES=${STUDIES:-mechanism knobs variant}
VARIANT_MODEL=${VARIANT_MODEL:-lmf}
VARIANT_DATA=${VARIANT_DATA:-synth:mosi:1}
VARIANT_EPOCHS=${VARIANT_EPOCHS:-50}
VARIANT_SETTINGS=${VARIANT_SETTINGS:-kl/kl_bound=dv mmd/standardize=true mmd/detach_targets=true mmd/beta=0.0001 kl/standardize=true mmd:d mmd:l2 kl:d}
VARIANT_REF=${VARIANT_REF:-results/reference/tables2-3}

usage() { sed -n '/^# Usage:/,/^# Reduced/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

# plan DIR ARGS… writes one plan folder with the shared options.
# plan DIR ARGS… writes the plan folder DIR (under the study folder $STUDY_OUT) and records its command in
# DIR/command.txt, with the study folder written as OUT so that the command names no machine's path.
plan() {
	local dir=$1 args
	shift
	mkdir -p "$dir"
	args=(--seeds "$SEEDS" --epochs "$EPOCHS" --batches "$BATCH" --lrs "$LR")
	"$SYNERGO" grid plan "${args[@]}" --out "$dir" "$@"
	printf 'synergo grid plan %s --out OUT/%s %s\n' "${args[*]}" "${dir#"$STUDY_OUT"/}" "$*" >"$dir/command.txt"
}

cmd_plan() {
	local out=$1 study
	STUDY_OUT=$out
	for study in $STUDIES; do
		case $study in
		mechanism) plan_mechanism "$out" ;;
		knobs) plan_knobs "$out" ;;
		variant) plan_variant "$out" ;;
		*) echo "study.sh: STUDIES: unknown study $study (want mechanism, knobs or variant)" >&2; exit 2 ;;
		esac
	done
}

# plan_mechanism writes the mechanism study's plans, one folder per model and setting (OUT/mechanism/MODEL/SETTING), so
# that a model's runs can be trained, collected and published on their own and models added later beside them.
plan_mechanism() {
	local out=$1 variants=() models=() model setting reg terms name v dir
	read -r -a variants <<<"$VARIANTS"
	IFS=, read -r -a models <<<"$MECH_MODELS"
	for model in "${models[@]}"; do
		dir=$out/mechanism/$model
		for setting in $MECH_SETTINGS; do
			reg=${setting%%:*}
			terms=""
			[[ $setting == *:* ]] && terms=${setting#*:}
			name=$reg${terms:+-$terms}
			if [[ $reg == none ]]; then
				plan "$dir/$name" --models "$model" --regs none --data "$MECH_DATA"
				continue
			fi
			for v in "${variants[@]}"; do
				plan "$dir/$name-$v" --models "$model" --regs "$reg" ${terms:+--terms "$terms"} --variant "$v" --data "$MECH_DATA"
			done
			# The β follow-up: one MMD term alone in the stable variant at larger β, to tell "the term cannot move
			# its diagnostic" from "the term is too weak at the default β to move it".
			[[ $reg == mmd && -n $terms ]] || continue
			for b in $MECH_BETAS; do
				plan "$dir/$name-stable-beta-$b" --models "$model" --regs mmd --terms "$terms" --variant stable \
					--reg-set "beta=$b" --data "$MECH_DATA"
			done
			# The frozen-g follow-up: L_d alone with the C-network's g_i kept at their initialization
			# (freeze_flows), so that only the model's representations can lower it — does the diagnostic MMD²
			# move then? At β = $CONTROL_BETA the term barely reaches the model: with frozen g_i its reg_d is L_d
			# of (almost) NLL's representations, with trained g_i what g_i alone lowers it to.
			[[ $terms == d && ,$FROZEN_MODELS, == *,$model,* ]] || continue
			for b in $CONTROL_BETA $FROZEN_BETAS; do
				plan "$dir/$name-stable-frozen-beta-$b" --models "$model" --regs mmd --terms d --variant stable \
					--reg-set "freeze_flows=true,beta=$b" --data "$MECH_DATA"
			done
			plan "$dir/$name-stable-beta-$CONTROL_BETA" --models "$model" --regs mmd --terms d --variant stable \
				--reg-set "beta=$CONTROL_BETA" --data "$MECH_DATA"
		done
	done
}

plan_knobs() {
	local out=$1 v=$KNOB_VARIANT world data name
	for world in $KNOB_WORLDS; do
		data=$KNOB_DATA
		[[ $world != default ]] && data=$KNOB_DATA:$world
		name=$(tr '=,' '-_' <<<"$world")
		plan "$out/knobs/$name/none" --models "$KNOB_MODEL" --regs none --data "$data"
		plan "$out/knobs/$name/mmd-$v" --models "$KNOB_MODEL" --regs mmd --variant "$v" --data "$data"
	done
}

# plan_variant writes one plan per VARIANT_SETTINGS entry REG[:TERMS][/KEY=VALUE], in the paper variant, named
# after it (e.g. mmd-standardize-true, mmd-d).
plan_variant() {
	local out=$1 setting head set reg terms name
	for setting in $VARIANT_SETTINGS; do
		head=${setting%%/*}
		set=""
		[[ $setting == */* ]] && set=${setting#*/}
		reg=${head%%:*}
		terms=""
		[[ $head == *:* ]] && terms=${head#*:}
		name=$reg${terms:+-$terms}${set:+-$(tr '=,' '--' <<<"$set")}
		EPOCHS=$VARIANT_EPOCHS plan "$out/variant/$name" --models "$VARIANT_MODEL" --regs "$reg" --variant paper \
			${terms:+--terms "$terms"} ${set:+--reg-set "$set"} --data "$VARIANT_DATA"
	done
}

# plans OUT lists the plan folders under OUT in the order the shards train them, so that a study stopped half-way
# leaves whole comparisons: each knob world's NLL then its S_MMD, then the mechanism study's NLL, its stable
# settings, its paper settings, then the variant study.
plans() {
	find "$1" -name plan.jsonl -printf '%h\n' | awk -v root="$1/" '{
		rel = substr($0, length(root) + 1)
		key = "9 " rel
		if (rel ~ /^knobs\//) { n = split(rel, p, "/"); key = "1 " p[2] " " (p[3] == "none" ? 0 : 1) }
		else if (rel ~ /^mechanism\/[^\/]+\/none$/) key = "2 0 " rel
		else if (rel ~ /^mechanism\/.*-stable$/) key = "2 1 " rel
		else if (rel ~ /^mechanism\//) key = "2 2 " rel
		else if (rel ~ /^variant\//) key = "3 " rel
		print key "\t" $0
	}' | sort | cut -f2
}

cmd_run() {
	local out=$1 shard=$2 shards=$3 dir failed=0 timer=()
	for dir in $(plans "$out"); do
		# cpu.tsv: wall, user and system seconds, shard and plan of each pass of a shard over a plan
		timer=()
		[[ -x /usr/bin/time ]] && timer=(/usr/bin/time -a -o "$out/cpu.tsv" -f "%e	%U	%S	$shard/$shards	$dir")
		"${timer[@]}" "$SYNERGO" grid run --plan "$dir" --shard "$shard/$shards" --no-progress || failed=1
	done
	return $failed
}

cmd_collect() {
	local out=$1 dir mech=() knobs=() variant=() incomplete=0
	for dir in $(plans "$out"); do
		"$SYNERGO" grid collect "$dir" || incomplete=1
		[[ -s $dir/results.jsonl ]] || continue
		case $dir in
		"$out"/mechanism/*) mech+=("$dir") ;;
		"$out"/knobs/*) knobs+=("$dir") ;;
		"$out"/variant/*) variant+=("$dir") ;;
		esac
	done
	if ((${#mech[@]})); then
		"$SYNERGO" table --layout mechanism --in "$(IFS=,; echo "${mech[*]}")" >"$out/mechanism.md"
		echo "wrote $out/mechanism.md"
	fi
	if ((${#knobs[@]})); then
		"$SYNERGO" table --layout knobs --in "$(IFS=,; echo "${knobs[*]}")" >"$out/knobs.md"
		echo "wrote $out/knobs.md"
	fi
	if ((${#variant[@]})); then
		[[ -s $VARIANT_REF/results.jsonl ]] && variant=("$VARIANT_REF" "${variant[@]}")
		"$SYNERGO" table --in "$(IFS=,; echo "${variant[*]}")" >"$out/variant.md"
		echo "wrote $out/variant.md"
	fi
	((incomplete == 0)) || echo "some plans are not complete yet (see above); the tables hold the finished cells" >&2
}

# cmd_publish OUT DEST copies what a study has finished into DEST (for results/evidence/): each plan's
# results.jsonl and command.txt under its relative path, OUT's tables, and DEST/README.md with the commit, the
# machine, the CPU-hours and the record counts. Checkpoints and logs stay in OUT.
cmd_publish() {
	local out=$1 dest=$2 dir rel n total=0 cpu
	mkdir -p "$dest"
	for dir in $(plans "$out"); do
		[[ -s $dir/results.jsonl ]] || continue
		rel=${dir#"$out"/}
		mkdir -p "$dest/$rel"
		cp "$dir/results.jsonl" "$dest/$rel/"
		[[ -s $dir/command.txt ]] && cp "$dir/command.txt" "$dest/$rel/"
	done
	cp "$out"/*.md "$dest/" 2>/dev/null || true
	cpu="not measured (the shards ran without /usr/bin/time)"
	[[ -s $out/cpu.tsv ]] && cpu=$(awk -F'\t' '{ s += $2 + $3 } END { printf "%.2f", s / 3600 }' "$out/cpu.tsv")
	{
		echo "# Evidence studies: finished runs"
		echo
		echo "Our numbers on the synthetic stand-ins (datasets/SYNTHETIC.md), never the paper's. The studies, their"
		echo "reduced protocol and its reasons: scripts/evidence/study.sh (header). Published $(date -u +%Y-%m-%dT%H:%MZ)."
		echo
		echo "- commit: ${COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}"
		echo "- machine: $(uname -srm), $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
		echo "- CPU-hours (user + system of the shards): $cpu"
		echo
		echo "| plan | records / planned |"
		echo "|---|---|"
		for dir in $(plans "$out"); do
			rel=${dir#"$out"/}
			n=0
			[[ -s $dir/results.jsonl ]] && n=$(grep -c . "$dir/results.jsonl")
			total=$((total + n))
			echo "| $rel | $n / $(grep -c . "$dir/plan.jsonl") |"
		done
		echo
		echo "Tables: \`mechanism.md\`, \`knobs.md\`, \`variant.md\` (those with records), written by \`study.sh collect\`."
		echo "Each record's \`command\` field trains it alone; each plan folder's \`command.txt\` is its plan command (OUT: the"
		echo "study folder given to \`study.sh plan\`)."
	} >"$dest/README.md"
	echo "published $total records to $dest"
}

cmd_count() {
	local dir
	for dir in $(plans "$1"); do
		printf '%6d  %s\n' "$(grep -c . "$dir/plan.jsonl")" "$dir"
	done
}

# The dispatch is one brace group ending in exit: bash parses it whole before running it, so a shard that runs for
# hours is not derailed when this file is edited meanwhile (bash reads a script as it goes).
{
	(($# >= 2)) || usage
	case $1 in
	plan) cmd_plan "$2" ;;
	run) (($# == 4)) || usage; cmd_run "$2" "$3" "$4" ;;
	collect) cmd_collect "$2" ;;
	count) cmd_count "$2" ;;
	publish) (($# == 3)) || usage; cmd_publish "$2" "$3" ;;
	*) usage ;;
	esac
	exit
}
