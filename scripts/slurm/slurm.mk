# Sharded grid on a single-node Slurm cluster (issue 8); included from the top-level Makefile.
#   make slurm-test   build synergo, start Slurm if needed, run scripts/slurm/ci-test.sh, stop Slurm
#   make slurm-up     start the single-node cluster (export SLURM_CONF=/tmp/synergo-slurm/etc/slurm.conf)
#   make slurm-down   stop it
.PHONY: slurm-test slurm-up slurm-down

slurm-test:
	GO=$(GO) bash scripts/slurm/ci-test.sh

slurm-up:
	bash scripts/slurm/up.sh

slurm-down:
	bash scripts/slurm/down.sh
