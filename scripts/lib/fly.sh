# Shared by the scripts/fly-* commands (sourced, not run): finding flyctl, printing the commands
# that change things (and only printing them under --dry-run), errors that name the fix, option
# checks and the polling clock. Written for bash 3.2 too (macOS's /bin/bash): no associative
# arrays, and empty arrays expanded as ${array[@]+"${array[@]}"} under `set -u`.
# shellcheck shell=bash

SCRIPT_NAME=${0##*/}
LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # read by the scripts that source this file
SCRIPTS_DIR=$(dirname "$LIB_DIR")
DRY_RUN=0
FLY_BIN=""

note() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }

die() {
  # On GitHub Actions the message also becomes an annotation on the run's summary page.
  if [[ ${GITHUB_ACTIONS:-} == true ]]; then
    printf '::error title=%s::%s\n' "$SCRIPT_NAME" "$*" >&2
  fi
  printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2
  exit 1
}

# Each script sets USAGE (one line) and HELP (the --help text).
usage_error() {
  printf '%s: %s\n%s\nRun %s --help for details.\n' "$SCRIPT_NAME" "$1" "$USAGE" "$SCRIPT_NAME" >&2
  exit 2
}

show_help() {
  printf '%s\n' "$HELP"
  exit 0
}

# Fails unless the option has a value: `--app` at the end of the line is a usage error, not a crash.
need_value() {
  [[ $# -ge 2 && -n $2 && $2 != --* ]] || usage_error "$1 needs a value"
}

check_app_name() {
  [[ $1 =~ ^[a-z0-9][a-z0-9-]*[a-z0-9]$ ]] ||
    usage_error "'$1' is not a Fly app name (lowercase letters, digits and dashes)"
}

check_seconds() {
  [[ $2 =~ ^[0-9]+$ ]] || usage_error "$1 must be a whole number of seconds, not '$2'"
}

check_interval() {
  [[ $2 =~ ^[0-9]+([.][0-9]+)?$ ]] || usage_error "$1 must be a number of seconds, not '$2'"
}

# flyctl from $FLYCTL, else `flyctl`, else `fly` (Homebrew and the install script provide both).
resolve_flyctl() {
  [[ -n $FLY_BIN ]] && return 0
  if [[ -n ${FLYCTL:-} ]]; then
    command -v "$FLYCTL" >/dev/null 2>&1 ||
      die "FLYCTL is set to '$FLYCTL', which is not an executable: fix the path or unset FLYCTL"
    FLY_BIN=$FLYCTL
  elif command -v flyctl >/dev/null 2>&1; then
    FLY_BIN=flyctl
  elif command -v fly >/dev/null 2>&1; then
    FLY_BIN=fly
  else
    die "flyctl is not installed: install it (https://fly.io/docs/flyctl/install/) or set FLYCTL to its path"
  fi
  # In CI nobody can answer flyctl's login prompt: say which secret is missing instead.
  if [[ ${CI:-} == true && -z ${FLY_API_TOKEN:-} ]]; then
    die "FLY_API_TOKEN is not set: create a token (fly tokens create org) and store it as the repository secret FLY_API_TOKEN, then pass it to this step's env"
  fi
}

# Where an app answers: https://<app>.fly.dev, unless FLY_APP_URL_PATTERN says otherwise ({app}
# stands for the app's name; the pipeline rehearsal points it at a local stand-in for Fly's proxy).
app_url() {
  local pattern=${FLY_APP_URL_PATTERN:-"https://{app}.fly.dev"}
  printf '%s' "${pattern//\{app\}/$1}"
}

display_command() {
  local shown
  printf -v shown '%q ' "$@"
  printf '%s' "${shown% }"
}

# A call that only looks (lists, status): it runs under --dry-run too, so a dry run shows a plan
# made from the app's real state.
fly_read() {
  resolve_flyctl
  "$FLY_BIN" "$@"
}

# A call that changes something: printed first; under --dry-run printed and not run. Its output
# goes to standard error, which keeps standard output for a script's result (a URL).
fly_change() {
  if ((DRY_RUN)); then
    printf '[dry-run] would run: %s\n' "$(display_command "${FLY_BIN:-${FLYCTL:-flyctl}}" "$@")" >&2
    return 0
  fi
  resolve_flyctl
  printf '+ %s\n' "$(display_command "$FLY_BIN" "$@")" >&2
  "$FLY_BIN" "$@" >&2
}

# `fly_query machines` turns `flyctl machines list --json` into one tab-separated line a machine
# (scripts/lib/fly_query.py reads every flyctl JSON output the scripts use).
fly_query() {
  python3 "$LIB_DIR/fly_query.py" "$@"
}

start_clock() { CLOCK_START=$(date +%s); }
elapsed_seconds() { echo $(($(date +%s) - CLOCK_START)); }
