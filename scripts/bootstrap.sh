#!/usr/bin/env bash
# Installs everything MedScribe needs to build, test and run on Debian 12 (idempotent; fast when
# all is present). Run as root, or as a user with sudo.
# Usage: scripts/bootstrap.sh [--fuzz]   (--fuzz adds clang and libFuzzer for scripts/fuzz.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: toolchain, libraries, and the tools the tests drive.
PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache git ca-certificates
  libgtest-dev libgmock-dev
  libspdlog-dev libfmt-dev libcli11-dev libyaml-cpp-dev nlohmann-json3-dev libsimdjson-dev libtbb-dev libssl-dev libpng-dev zlib1g-dev libarchive-dev libsqlite3-dev sqlite3 libtorch-dev libsentencepiece-dev libopenblas0-pthread libgloo-dev python3-torch openmpi-bin libgoogle-perftools-dev
  libboost1.74-dev libjpeg-dev wrk prometheus
  libdcmtk-dev dcmtk dicom3tools libopenjp2-7-dev
  libcurl4-openssl-dev libpq-dev curl
  orthanc orthanc-dicomweb postgresql chromium
  espeak-ng libsamplerate0-dev sox libpocketsphinx-dev pocketsphinx-en-us pocketsphinx sphinxbase-utils sphinxtrain
  libtss2-dev swtpm swtpm-tools tpm2-tools
  libtext-names-perl wamerican
)

if [ "${1:-}" = "--fuzz" ]; then PACKAGES+=(clang libclang-rt-14-dev); fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js runs the FHIR validator in the tests; any installed node is kept.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages for the test tooling, pinned by tests/tools/package.json.
if [ ! -d tests/tools/node_modules/@medplum/core ] || [ ! -d tests/tools/node_modules/openai ] \
   || [ ! -d tests/tools/node_modules/@medplum/fhir-router ] || [ ! -d tests/tools/node_modules/playwright-core ]; then
  echo "bootstrap: installing test tooling with npm"
  (cd tests/tools && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
# llama.cpp's prebuilt CPU binaries (node-llama-cpp), the anchor the engine and the GGUF export
# are measured against, in a cache outside the tree; its postinstall step (a download or a
# source build) is skipped, and of the optional per-platform packages only linux-x64 is taken.
llama_npm="${MEDSCRIBE_LLAMA_NPM:-${XDG_CACHE_HOME:-$HOME/.cache}/medscribe/llama}"
if [ ! -d "$llama_npm/node_modules/@node-llama-cpp/linux-x64" ]; then
  echo "bootstrap: installing llama.cpp's prebuilt CPU binaries (node-llama-cpp) into $llama_npm"
  mkdir -p "$llama_npm"
  (cd "$llama_npm" && npm install --prefix . --ignore-scripts --omit=optional --no-audit --no-fund \
     --loglevel=error node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1 >/dev/null) \
    || echo "bootstrap: node-llama-cpp could not be installed; the llama.cpp comparisons will skip"
fi
echo "bootstrap: ok"
