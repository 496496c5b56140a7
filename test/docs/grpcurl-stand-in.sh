# A stand-in for grpcurl (not installable here), sourced into the docs test's bash session. Bash expands each
# documented grpcurl command as usual; the stand-in records the resulting arguments (one file per call, NUL
# separated) for the test to check against the service's descriptors, and makes the same unary call through
# the service's HTTP port (Connect JSON, which reads proto field names like grpcurl), so a documented grpcurl
# step changes the service exactly as it would and a later step sees its effects. Streaming methods and
# `list` are only recorded.
grpcurl() {
  DOCS_TEST_GRPCURL_CALLS=$((DOCS_TEST_GRPCURL_CALLS + 1))
  printf '%s\0' "$@" >"$DOCS_TEST_DIR/grpcurl-$DOCS_TEST_BLOCK-$DOCS_TEST_GRPCURL_CALLS"
  local headers=() body='{}' positional=()
  while [ $# -gt 0 ]; do
    case $1 in
    -plaintext) shift ;;
    -H) headers+=(-H "$2") && shift 2 ;;
    -d) body=$2 && shift 2 ;;
    -*) echo "grpcurl stand-in: unsupported option $1" >&2 && return 2 ;;
    *) positional+=("$1") && shift ;;
    esac
  done
  local method=${positional[1]:-list}
  if [ "$method" = list ] || [[ " $DOCS_TEST_STREAMING_METHODS " == *" $method "* ]]; then
    return 0
  fi
  curl -sS --fail-with-body "$APIKEYS_URL/$method" -H 'content-type: application/json' "${headers[@]}" -d "$body"
  echo
}
