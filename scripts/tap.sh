# Sourced by every shell suite that prints TAP: one numbered result per call, a detail
# shown as comments, and TAP_FAILED set once anything failed. A suite prints its plan
# first and exits with tap_exit, non-zero once a check failed.
TAP_NUMBER=0
TAP_FAILED=0
tap() { # ok|not-ok DESCRIPTION [DETAIL]
  TAP_NUMBER=$((TAP_NUMBER + 1))
  if [ "$1" = ok ]; then
    echo "ok $TAP_NUMBER - $2"
  else
    TAP_FAILED=1
    echo "not ok $TAP_NUMBER - $2"
    [ -z "${3:-}" ] || printf '%s\n' "$3" | sed 's/^/# /'
  fi
}
# tap_is DESCRIPTION EXPECTED GOT [NOTE]: ok when GOT is exactly EXPECTED; otherwise both,
# and NOTE, as comments.
tap_is() {
  if [ "$3" = "$2" ]; then tap ok "$1"
  else tap not-ok "$1" "expected: $2"$'\n'"got: $3${4:+$'\n'$4}"; fi
}

# tap_relay LABEL: another TAP stream on stdin, its results renumbered into this one and
# labelled; its comments kept. A result line may carry a prefix the console put before it
# (MARK anywhere in the line, then the result): what cannot be read as a result is not one,
# and a short count shows it.
tap_relay() { # LABEL [MARK]
  local label=$1 mark=${2:-} line
  while IFS= read -r line; do
    line=${line%$'\r'}
    if [ -n "$mark" ]; then
      case $line in *"$mark"*) line=${line#*"$mark"} ;; *) continue ;; esac
    fi
    case $line in
      "ok "*) tap ok "$label${line#ok * - }" ;;
      "not ok "*) tap not-ok "$label${line#not ok * - }" ;;
      "# "*) echo "$line" ;;
    esac
  done
}

# fail_lane LANE WHY: a lane that cannot run at all. Under CI=true that is one failure;
# elsewhere a skipped plan that says why.
fail_lane() { # LANE WHY
  if [ "${CI:-}" = true ]; then echo "1..1"; tap not-ok "$1 cannot run: $2"; exit 1; fi
  echo "1..0 # SKIP $1: $2 (under CI=true this fails)"
  exit 0
}

# refuse_filters LANE VARIABLE...: under CI=true a lane runs whole; a variable that narrows
# it to some cases fails it.
refuse_filters() { # LANE VARIABLE...
  local lane=$1 variable
  shift
  [ "${CI:-}" = true ] || return 0
  for variable in "$@"; do
    if [ -n "${!variable:-}" ]; then
      echo "1..1"; tap not-ok "$lane: $variable narrows the lane, which CI=true refuses"; exit 1
    fi
  done
}

# The suite's exit: non-zero once a check failed, or when the results are not the plan.
tap_exit() { # [PLANNED]
  if [ -n "${1:-}" ] && [ "$TAP_NUMBER" -ne "$1" ]; then
    echo "# $TAP_NUMBER results, $1 planned"
    exit 1
  fi
  [ "$TAP_FAILED" -eq 0 ]
}
