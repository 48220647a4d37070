#!/usr/bin/env bash
# make-base.sh OUT.tar: a Debian bookworm minbase root filesystem as a tarball, for
# `docker import OUT.tar debian:bookworm-slim` (provision/tests/common/docker.rs does that).
#
# It stands in for the registry's debian:bookworm-slim only because no image registry is
# reachable where the tests run: mmdebstrap builds it from the host's own apt sources (the same
# mirror apt-get uses), with the apt settings the official slim images carry (no .deb cache, no
# package lists, no translations) so later `apt-get install` layers stay small.
set -euo pipefail
out=${1:?usage: make-base.sh OUT.tar}
command -v mmdebstrap >/dev/null || {
  echo "make-base.sh: mmdebstrap is missing: apt-get install -y mmdebstrap (scripts/test does)" >&2
  exit 1
}
sources=/etc/apt/sources.list.d/debian.sources
[ -f "$sources" ] || sources=/etc/apt/sources.list
tmp="$out.partial.tar"
rm -f -- "$tmp"
trap 'rm -f -- "$tmp"' EXIT
# --format=tar: with any other name than *.tar mmdebstrap would write a directory.
# The merged-usr hook: without it the usrmerge package pulls in ~45 MB of perl.
mmdebstrap --variant=minbase --mode=root --format=tar --quiet \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook='printf "%s\n" "DPkg::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true\"; };" "APT::Update::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true\"; };" "Dir::Cache::pkgcache \"\";" "Dir::Cache::srcpkgcache \"\";" > "$1/etc/apt/apt.conf.d/docker-clean"' \
  --customize-hook='echo "Acquire::Languages \"none\";" > "$1/etc/apt/apt.conf.d/docker-no-languages"' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/*.log "$1"/var/cache/ldconfig/aux-cache' \
  bookworm "$tmp" "$sources" </dev/null
mv -f -- "$tmp" "$out"
trap - EXIT
