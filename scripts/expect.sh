# Sourced by the scenario runners, the laid-out files (scenarios.sh), the real kernels
# (vm/cases.sh) and the real runtimes (runtime-test.sh): what a case expects, and the probe
# line it must print. The expectations are data each case writes out; nothing here computes
# what a finding rule would say.
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
# expect_row DESCRIPTION EXPECTATION CODES: a case table row's expectations, as written there:
# EXPECTATION is "VALUE SOURCE [STD]" with $NCPU and the like expanded, CODES the finding
# codes or "-" for none; surrounding blanks are the table's.
expect_row() {
  eval "describe \"$(echo $1)\""
  eval "expect $2"
  [ "$(echo $3)" = - ] || findings $3
}
# The CPUs this process's affinity mask allows: nproc without the OpenMP variables, which
# would otherwise cap (OMP_THREAD_LIMIT) or replace (OMP_NUM_THREADS) its answer.
allowed_cpus() { env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc; }
# Resets what the helpers record.
reset_expectations() {
  PHASE=expect DESCRIPTION='' EXPECT='' EXPECT_SOURCE='' EXPECT_STD='' EXPECT_FINDINGS=''
}

# The findings that are notes, as the issue that graded them says (a caveat the process cannot
# check, a cost, an override set on purpose); every other code is a warning.
NOTE_CODES=" override-replaces-detection quota-above-cpus cpu-steal mountinfo-scan quota-burst cgroup-namespace requests-only "
with_severity() { # CODE -> CODE/SEVERITY
  case $NOTE_CODES in *" $1 "*) echo "$1/note" ;; *) echo "$1/warning" ;; esac
}

# A probe line with its last field (the finding codes) sorted, "-" when empty: a set.
sorted_codes() { # LINE
  local line=$1 codes=${1##* }
  [ -n "$codes" ] && [ "$codes" != - ] || codes=-
  [ "$codes" = - ] || codes=$(tr , '\n' <<<"$codes" | sort -u | paste -sd, -)
  echo "${line% *} $codes"
}

# The first line lua/scenarios/probe.lua must print: answer, explain().value, source,
# derived (std's rules), explain().std, finding codes. STD is std's answer as this runtime's
# calling thread sees it.
wanted_probe_line() { # STD
  local value=$EXPECT code codes=()
  [ "$EXPECT" != error ] || value=nil
  for code in $EXPECT_FINDINGS; do codes+=("$(with_severity "$code")"); done
  sorted_codes "$EXPECT $value $EXPECT_SOURCE $1 $1 $(IFS=,; echo "${codes[*]}")"
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
