# Sourced by the shell suites that print TAP (scenarios, kumod-hosts): one numbered result
# per call, a detail shown as comments, and TAP_FAILED set once anything failed.
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
