#!/usr/bin/env bash
# Installs the system packages Reprise needs, only when missing. Safe to run again.
#   ffmpeg      always (the transcoder)
#   chromium    with --test: the browser the page tests drive
#   postgresql  with --test: the scale-out tests start throwaway clusters of their own
#   iproute2    with --test: network namespaces for the multi-host tests
#   flac, mp3val, opus-tools, vorbis-tools, faad, mediainfo
#               with --test: the media fidelity suite judges outputs with tools that are not ffmpeg
#   unzip       with --test: an independent reader for the ZIP downloads
#   loudgain    with --test: libebur128's meter, which checks normalized outputs independently
set -euo pipefail

need=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
if [ "${1:-}" = "--test" ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  command -v ip >/dev/null 2>&1 || need+=(iproute2)
  for tool in flac:flac metaflac:flac mp3val:mp3val opusinfo:opus-tools ogginfo:vorbis-tools faad:faad mediainfo:mediainfo unzip:unzip; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool#*:}")
  done
  command -v loudgain >/dev/null 2>&1 || need+=(loudgain)
fi
[ ${#need[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "Please install: ${need[*]} (this script knows apt-get only)" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "Installing ${need[*]} with apt-get..."
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
