#!/usr/bin/env bash
# Installs the Debian packages Vigil's build and tests need (idempotent; root or sudo).
#   libpcap-dev            live capture binding (issue 7)
#   tcpdump, tshark        reference tools the golden tests compare against
#                          (tcpdump is also the live capture tool of `vigil serve`, issue 7)
#   wireshark-common       capinfos/editcap/mergecap (bench capture)
#   tcpreplay              tcprewrite (bench capture)
#   libndpi-bin            ndpiReader (throughput bench reference)
#   postgresql             initdb/pg_ctl for the throwaway server of the PostgreSQL store tests (issue 7)
set -euo pipefail
PKGS=(libpcap-dev tcpdump tshark wireshark-common tcpreplay libndpi-bin postgresql)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "installed: ${missing[*]}"
fi
