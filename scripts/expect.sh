# Sourced by both scenario runners, the laid-out files (scenarios.sh) and the real kernels
# (vm/cases.sh): what a case expects, and the probe line it must print. NCPU must be set:
# the CPUs the runner's affinity mask allows before any case.
#
# Outside a layout (PHASE=expect) the helpers record; scenarios.sh also calls the cases with
# PHASE=layout, where they record nothing.

# describe TEXT: the case's name in TAP.
describe() { [ "$PHASE" = expect ] && DESCRIPTION=$1; return 0; }
# expect VALUE SOURCE [STD]: the module's answer ("error" when it raises), explain().source,
# std's answer.
expect() { [ "$PHASE" = expect ] && { EXPECT=$1; EXPECT_SOURCE=$2; EXPECT_STD=${3:-$1}; }; return 0; }
# findings CODE...: explain().findings' codes, as a set; none unless a case says so.
findings() { [ "$PHASE" = expect ] && EXPECT_FINDINGS+=" $*"; return 0; }
# expect_quota CPUS [ALLOWED]: what a binding quota of CPUS gives, as std computes it:
# floored, at least 1, at most the CPUs allowed (default NCPU); "cgroup" decides when CPUS <
# the count. And its finding: below one CPU, at or above the CPU count, or not whole.
expect_quota() {
  local allowed=${2:-$NCPU} value source
  value=$(awk -v q="$1" -v n="$allowed" 'BEGIN { v = int(q); if (v < 1) v = 1; if (v > n) v = n; print v }')
  source=$(awk -v q="$1" -v n="$allowed" 'BEGIN { print (q < n) ? "cgroup" : "affinity" }')
  expect "$value" "$source"
  findings "$(awk -v q="$1" -v n="$allowed" 'BEGIN {
    if (q < 1) print "quota-below-one"; else if (q >= n) print "quota-above-cpus"; else if (q != int(q)) print "quota-floored" }')"
}
# Resets what the helpers record.
reset_expectations() {
  PHASE=expect DESCRIPTION='' EXPECT='' EXPECT_SOURCE='' EXPECT_STD='' EXPECT_FINDINGS=''
}

# A probe line with its last field (the finding codes) sorted, "-" when empty: a set.
sorted_codes() { # LINE
  local line=$1 codes=${1##* }
  [ -n "$codes" ] && [ "$codes" != - ] || codes=-
  [ "$codes" = - ] || codes=$(tr , '\n' <<<"$codes" | sort | paste -sd, -)
  echo "${line% *} $codes"
}

# The first line lua/scenarios/probe.lua must print: answer, explain().value, source,
# derived (std's rules), explain().std, finding codes. STD is std's answer as this runtime's
# calling thread sees it.
wanted_probe_line() { # STD
  local value=$EXPECT
  [ "$EXPECT" != error ] || value=nil
  # shellcheck disable=SC2086
  sorted_codes "$EXPECT $value $EXPECT_SOURCE $1 $1 $(echo $EXPECT_FINDINGS | tr ' ' ,)"
}

# Checks one runtime's probe output against the expectations: one TAP line.
check_probe() { # LABEL STD OUTPUT
  local want first
  want=$(wanted_probe_line "$2")
  first=$(sorted_codes "${3%%$'\n'*}")
  if [ "$first" = "$want" ]; then tap ok "$DESCRIPTION [$1]"
  else tap not-ok "$DESCRIPTION [$1]" "expected: $want"$'\n'"got: $3"; fi
}

# Checks the std reference's output: one TAP line.
check_std() { # OUTPUT
  tap_is "$DESCRIPTION [std reference]" "$EXPECT_STD" "$1"
}
