#!/usr/bin/env bash
# Runs every native Go fuzz target in the repository for FUZZ_TIME each and
# fails if any of them fails. Targets are found by grepping the test files,
# so a new Fuzz function is picked up without editing this script.
#
#   scripts/fuzz.sh                   10s per target (CI)
#   FUZZ_TIME=2m scripts/fuzz.sh      longer, locally
#   scripts/fuzz.sh Decode Locale     only targets whose name matches one of these
#
# go test -fuzz takes one target in one package per run, hence one run each.
# A failing input is minimised by go test and written under the package's
# testdata/fuzz/<FuzzName>/; commit it so that plain go test replays it.
# New interesting inputs stay in go's cache (go env GOCACHE)/fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzz_time=${FUZZ_TIME:-10s}

# "file:func FuzzName(" for every fuzz target, outside testdata and npm
# trees (go ignores testdata; node_modules holds no Go of ours).
mapfile -t found < <(
  grep -rEo --include='*_test.go' --exclude-dir=testdata --exclude-dir=node_modules --exclude-dir=.git \
    '^func Fuzz[A-Za-z0-9_]*\([A-Za-z_][A-Za-z0-9_]* \*testing\.F\)' . | sort
)
if [ "${#found[@]}" -eq 0 ]; then
  echo "fuzz.sh: no fuzz targets found" >&2
  exit 1
fi

failed=()
ran=0
for hit in "${found[@]}"; do
  file=${hit%%:*}
  name=${hit#*:func }
  name=${name%%(*}
  pkg=./$(dirname "${file#./}")
  if [ "$#" -gt 0 ]; then
    match=false
    for want in "$@"; do
      if [[ $name == *"$want"* ]]; then match=true; fi
    done
    $match || continue
  fi
  ran=$((ran + 1))
  echo "+ go test -run '^\$' -fuzz '^$name\$' -fuzztime $fuzz_time $pkg" >&2
  if ! go test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzz_time" "$pkg"; then
    failed+=("$pkg $name")
  fi
done

if [ "$ran" -eq 0 ]; then
  echo "fuzz.sh: no fuzz target matches: $*" >&2
  exit 1
fi
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz.sh: ${#failed[@]} of $ran targets failed:" >&2
  printf '  %s\n' "${failed[@]}" >&2
  echo "the failing inputs are under each package's testdata/fuzz/; go test replays them" >&2
  exit 1
fi
echo "fuzz.sh: $ran targets passed, $fuzz_time each" >&2
