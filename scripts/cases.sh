# The one case runner, sourced by every lane that runs the module in a prepared
# environment: laid-out files in a mount namespace (scenarios.sh), real kernels under qemu
# (vm-test.sh, inside the VM), real container runtimes (runtime-test.sh). A lane supplies
# only its case files, the words its setups use, and how to enter a case's environment.
#
# A case file (scripts/cases/*.cases) has one row per case:
#
#   name | what it shows | VALUE SOURCE [STD] | CODE/SEVERITY ... ("-": none) | setup
#
# VALUE is what available_parallelism() answers ("error" when it raises), SOURCE
# explain().source, STD what the std reference prints (VALUE unless given). The codes are
# explain().findings' exact set, each with its severity. The expectation and the codes are
# shell words, expanded (so "$NCPU" is the CPUs this machine allows); no finding rule is
# computed here. The setup is shell in the lane's words, run twice: with PHASE=expect it
# only records what the case needs (the runtimes, a pin, an override...), and the lane runs
# it again as it lays the case out. Blank lines and lines starting with # are comments.
#
# Every result is one TAP line. A lane prints its plan first (plan_cases, plan_live), from
# the case files, so a lane that stops early is a short count, never a smaller pass.
#
# A lane defines:
#   lane_enter RUNTIME   print what the program for RUNTIME ("std", an interpreter, "host")
#                        prints, run inside the current case's environment
#   lane_enter_all RUNTIME...   optional: the same for all of them at once, each output
#                        after a "== RUNTIME" line (one container start per case)
#   lane_selects         optional: whether the current case runs in this lane (the VM runs
#                        only the scenario rows that need no cgroup v1 hierarchy)
#   lane_prepare         optional: lays the case out once before its programs run (the VM)
# and sets CASE_RUNTIMES, the runtimes every case runs in unless its setup says otherwise,
# and CASE_EXTRA_FINDINGS, findings the machine itself shows in every case (its own cgroup
# namespace), if any.

source scripts/tap.sh

# The CPUs this process's affinity mask allows: nproc without the OpenMP variables, which
# would otherwise cap (OMP_THREAD_LIMIT) or replace (OMP_NUM_THREADS) its answer.
allowed_cpus() { env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc; }
# Read once, by the lane, before any case; the processes a lane starts for a case (a
# layout namespace, a VM's case) get it from it, as the case saw it.
NCPU=${KUMO_CASE_NCPU:-$(allowed_cpus)}
export KUMO_CASE_NCPU=$NCPU

# ---- the words every setup may use, in both phases -------------------------------------
# runtimes RUNTIME...: the runtimes this case runs in, instead of CASE_RUNTIMES.
runtimes() { ROW_RUNTIMES="$*"; }
# host_sees_std COUNT: std's answer as the host's policy thread sees it, where it is not
# what the std reference (the main thread, at the start) prints.
host_sees_std() { HOST_STD=$1; }
# after FUNCTION CHECKS: run FUNCTION after the case's programs; it prints CHECKS results.
after() { AFTER=$1 AFTER_CHECKS=$2; }
# advises COUNT: one check that every runtime's report (probe.lua's lines after the first)
# tells the person to set KUMO_AVAILABLE_PARALLELISM=COUNT.
advises() { ADVICE=$1; after check_advice 1; }
check_advice() {
  local runtime report missing=''
  for runtime in $ROW_RUNTIMES; do
    report=${CASE_OUTPUT[$runtime]}
    grep -Eq "set KUMO_AVAILABLE_PARALLELISM=$ADVICE([^0-9]|\$)" <<<"$report" || missing+="[$runtime] $report"$'\n'
  done
  if [ -z "$missing" ]; then tap ok "$DESCRIPTION [every report: set KUMO_AVAILABLE_PARALLELISM=$ADVICE]"
  else tap not-ok "$DESCRIPTION [every report: set KUMO_AVAILABLE_PARALLELISM=$ADVICE]" "$missing"; fi
}

# ---- reading the case files -------------------------------------------------------------
# The rows of a case file, without comments and blank lines.
case_rows() { grep -v '^[[:space:]]*\(#\|$\)' "$1"; }

trim() { local text=$1; text=${text#"${text%%[![:space:]]*}"}; echo "${text%"${text##*[![:space:]]}"}"; }
# strip VAR: VAR without its surrounding blanks, in place (no subshell: this runs once per
# program in the scenarios).
strip() { local -n var=$1; var=${var#"${var%%[![:space:]]*}"}; var=${var%"${var##*[![:space:]]}"}; }

# Splits a row into ROW_NAME, ROW_DESCRIPTION, ROW_EXPECT, ROW_CODES, ROW_SETUP, and checks
# its form: five fields, a name, each code with the severity "warning" or "note".
read_row() { # LINE
  local extra code
  IFS='|' read -r ROW_NAME ROW_DESCRIPTION ROW_EXPECT ROW_CODES ROW_SETUP extra <<<"$1"
  strip ROW_NAME; strip ROW_CODES; strip ROW_SETUP
  [ -n "$ROW_NAME" ] && [ -n "$ROW_SETUP" ] && [ -z "$extra" ] \
    || { ROW_ERROR="not five fields: $1"; return 1; }
  for code in $ROW_CODES; do
    case $code in
      -|'${'*|*/warning|*/note) ;;
      *) ROW_ERROR="$ROW_NAME: '$code' is not CODE/warning or CODE/note"; return 1 ;;
    esac
  done
}

# Records row LINE's expectations (PHASE=expect): DESCRIPTION, EXPECT, EXPECT_SOURCE,
# EXPECT_STD, EXPECT_FINDINGS, and the lane's settings from its setup.
expect_case() { # LINE
  PHASE=expect DESCRIPTION='' EXPECT='' EXPECT_SOURCE='' EXPECT_STD='' EXPECT_FINDINGS=''
  ROW_RUNTIMES=$CASE_RUNTIMES HOST_STD='' AFTER='' AFTER_CHECKS=0 ROW_ERROR=''
  if declare -F lane_reset >/dev/null; then lane_reset; fi
  read_row "$1" || return 1
  DESCRIPTION=$(eval "echo \"$(trim "$ROW_DESCRIPTION")\"")
  local words
  read -r -a words <<<"$(eval "echo $ROW_EXPECT")"
  EXPECT=${words[0]:-} EXPECT_SOURCE=${words[1]:-} EXPECT_STD=${words[2]:-${words[0]:-}}
  [ -n "$EXPECT_SOURCE" ] || { ROW_ERROR="$ROW_NAME: no VALUE SOURCE"; return 1; }
  local code
  for code in $(eval "echo $ROW_CODES") ${CASE_EXTRA_FINDINGS:-}; do
    [ "$code" = - ] || EXPECT_FINDINGS+=" $code"
  done
  eval "$ROW_SETUP" || { ROW_ERROR="$ROW_NAME: its setup failed in the expect phase"; return 1; }
  [ -n "$ROW_RUNTIMES" ] || { ROW_ERROR="$ROW_NAME: no runtime to run in"; return 1; }
}

# The results one case prints: std, each runtime, and its after-checks.
case_results() { echo $((1 + $(wc -w <<<"$ROW_RUNTIMES") + AFTER_CHECKS)); }

# Whether the current case runs here: the lane's choice, then a filter (NAME_FILTER, from
# a variable such as KUMO_SCENARIOS) while working on some cases; filtered cases print one
# skip line each. Under CI=true the lanes refuse filters before planning.
case_selected() { ! declare -F lane_selects >/dev/null || lane_selects; }
case_filtered() { [ -n "${NAME_FILTER:-}" ] && [[ " $NAME_FILTER " != *" $ROW_NAME "* ]]; }

# The results a case file plans: every selected case's, one per filtered case; a row that
# cannot be read counts one (its failure).
plan_cases() { # FILE
  local line total=0
  while IFS= read -r line; do
    if ! expect_case "$line"; then total=$((total + 1)); continue; fi
    case_selected || continue
    if case_filtered; then total=$((total + 1)); else total=$((total + $(case_results))); fi
  done < <(case_rows "$1")
  echo "$total"
}

# ---- running -------------------------------------------------------------------------------
# The lines under "== NAME" in OUTPUT.
section() { awk -v name="== $2" '$0 == name { on = 1; next } /^== / { on = 0 } on' <<<"$1"; }

# A probe line with its last field (the finding codes) sorted, "-" when empty: a set.
sorted_codes() { # LINE
  local line=$1 codes=${1##* }
  [ -n "$codes" ] && [ "$codes" != - ] || codes=-
  [ "$codes" = - ] || codes=$(tr , '\n' <<<"$codes" | sort -u | paste -sd, -)
  echo "${line% *} $codes"
}

# The first line lua/scenarios/probe.lua must print: answer, explain().value, source,
# derived (std's rules), explain().std, findings as code/severity. STD is std's answer as
# this runtime's calling thread sees it.
wanted_probe_line() { # STD
  local value=$EXPECT codes
  [ "$EXPECT" != error ] || value=nil
  codes=$(tr ' ' '\n' <<<"$EXPECT_FINDINGS" | grep . | sort -u | paste -sd, -)
  sorted_codes "$EXPECT $value $EXPECT_SOURCE $1 $1 ${codes:--}"
}

check_probe() { # LABEL STD OUTPUT
  local want first
  want=$(wanted_probe_line "$2")
  first=$(sorted_codes "${3%%$'\n'*}")
  if [ "$first" = "$want" ]; then tap ok "$DESCRIPTION [$1]"
  else tap not-ok "$DESCRIPTION [$1]" "expected: $want"$'\n'"got: $3"; fi
}

check_std() { tap_is "$DESCRIPTION [std reference]" "$EXPECT_STD" "$1"; }

# Runs the current case (expect_case has recorded it): the std reference and every
# runtime in the case's environment, each checked; then its after-checks, which find each
# program's output in CASE_OUTPUT[RUNTIME] ("std" for the reference).
declare -gA CASE_OUTPUT
run_case() {
  local outputs='' runtime seen_std
  CASE_OUTPUT=()
  if declare -F lane_prepare >/dev/null; then lane_prepare; fi
  if declare -F lane_enter_all >/dev/null; then
    outputs=$(lane_enter_all $ROW_RUNTIMES)
    CASE_OUTPUT[std]=$(section "$outputs" std)
    for runtime in $ROW_RUNTIMES; do CASE_OUTPUT[$runtime]=$(section "$outputs" "$runtime"); done
  else
    CASE_OUTPUT[std]=$(lane_enter std 2>&1)
    for runtime in $ROW_RUNTIMES; do CASE_OUTPUT[$runtime]=$(lane_enter "$runtime" 2>&1); done
  fi
  check_std "${CASE_OUTPUT[std]}"
  for runtime in $ROW_RUNTIMES; do
    # a thread that sees another std than the main thread at the start says which
    seen_std=${CASE_OUTPUT[std]}
    [ "$runtime" != host ] || [ -z "$HOST_STD" ] || seen_std=$HOST_STD
    # with every program's output after it, where the lane ran them at once
    check_probe "$runtime" "$seen_std" "${CASE_OUTPUT[$runtime]}${outputs:+$'\n'$outputs}"
  done
  [ -z "$AFTER" ] || "$AFTER"
}

# Runs every case of FILE in order: a row that cannot be read fails once, a filtered case
# is skipped once, with its reason.
run_cases() { # FILE
  local line
  # the rows on fd 3: the programs a case runs keep the lane's stdin
  while IFS= read -r -u 3 line; do
    if ! expect_case "$line"; then tap not-ok "a case that cannot be read" "$ROW_ERROR"; continue; fi
    case_selected || continue
    if case_filtered; then tap ok "$ROW_NAME # SKIP not in the filter ($NAME_FILTER)"; continue; fi
    run_case
  done 3< <(case_rows "$1")
}

# ---- live changes ---------------------------------------------------------------------------
# A live file (scripts/cases/*.live) has one row per question to one long-lived lua5.4
# (lua/scenarios/live.lua) the lane has started as coproc LIVE:
#
#   what changed | expected answer line | action (shell, run first)
#
# The answer line is "<available_parallelism()> <explain().value> <changed|->". An action
# that fails sets LAYOUT_ERROR, shown with the result.
plan_live() { case_rows "$1" | wc -l; }

run_live() { # FILE LABEL
  local description expected action answer
  while IFS='|' read -r -u 3 description expected action; do
    LAYOUT_ERROR='' PHASE=layout
    eval "$(trim "$action")" || LAYOUT_ERROR+="the action failed; "
    PHASE=expect
    answer=''
    { echo q >&"${LIVE[1]}" && read -r -t 120 answer <&"${LIVE[0]}"; } 2>/dev/null
    description=$(eval "echo \"$(trim "$description")\"")
    tap_is "$2: $description [lua5.4]" "$(eval "echo $expected")" "$answer" "$LAYOUT_ERROR"
  done 3< <(case_rows "$1")
  { echo quit >&"${LIVE[1]}"; } 2>/dev/null
  wait "$LIVE_PID" 2>/dev/null
}
