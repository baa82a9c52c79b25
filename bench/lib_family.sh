# Shared by the bench/ scripts that run one VNN-COMP family (run_family.sh, compress_vs_verify.sh):
# sourced from the repository root, after `set -euo pipefail`.

# parse_family_args "$@": reads `FAMILY [--every N]` from the front of the arguments. Sets family,
# every, dir (benchmarks/vnnlib for "bundled", else ../shared/benchmarks/FAMILY) and family_args
# (how many arguments it read, for the caller to `shift`); exits when the folder is missing.
parse_family_args() {
  family=$1
  family_args=1
  every=1
  if [ "${2:-}" = "--every" ]; then every=$3; family_args=3; fi
  if [ "$family" = bundled ]; then dir=benchmarks/vnnlib; else dir=../shared/benchmarks/$family; fi
  [ -d "$dir" ] || { echo "$(basename "$0"): $dir not found" >&2; exit 1; }
}

# family_instance_list OUT: writes every every-th instance of the family (a deterministic sample)
# to OUT/FAMILY.instances.csv and sets list to that path.
family_instance_list() {
  mkdir -p "$1"
  list=$1/$family.instances.csv
  awk -v n="$every" 'NF && (NR - 1) % n == 0' "$dir/instances.csv" > "$list"
}
