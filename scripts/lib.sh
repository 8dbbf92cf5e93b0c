# SPDX-License-Identifier: GPL-2.0
# Shared settings for the rvfio-pci build tooling; sourced, not run.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# CI may run without HOME: fall back to the user's home directory.
HOME=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
export HOME
# Everything large lives outside the repo, in the cache: BASE holds what every kernel flavour
# shares (sources, tools), CACHE the built tree, modules and VM runs of one flavour. SANITIZE=1
# selects the sanitizer flavour (KASAN, UBSAN, ...: scripts/config/sanitize.config) in its own
# directory; the default flavour is BASE itself.
BASE=${RVFIO_CACHE:-$HOME/.cache/rvfio}
SANITIZE=${SANITIZE:-0}
if [ "$SANITIZE" = 1 ]; then
	CACHE=$BASE/sanitize
else
	CACHE=$BASE
fi
export SANITIZE
# Pinned kernel source; fetch falls back to the newest 7.3.x it can find.
KVER_PIN=${RVFIO_KVER:-7.3.4}
SRC=$BASE/linux-src             # pristine unpacked tree
TREE=$CACHE/linux               # pristine + patches + project files
APT=$BASE/apt
TOOLS=$BASE/tools
LLVM_SUFFIX=-19
export PATH=$HOME/.cargo/bin:$TOOLS/bin:$PATH

log() { printf '[rvfio %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# apt-get with a private sources list and lists directory, so the machine's
# own apt configuration is never touched. The mirror URI is read from the
# machine's configuration.
apt_mirror() {
	local uri=""
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' \
			/etc/apt/sources.list.d/debian.sources)
	fi
	if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
		uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' \
			/etc/apt/sources.list)
	fi
	[ -n "$uri" ] || die "cannot find a Debian mirror in the apt configuration"
	echo "$uri"
}

# Two private lists: "install" holds bookworm (+ backports, for QEMU 10),
# "download" holds trixie-backports, from which only architecture-independent
# packages (kernel source, rust-src) are downloaded, never installed.
apt_private() {
	local which=$1 tool=apt-get
	shift
	if [ "$1" = policy ]; then tool=apt-cache; fi
	$tool -q -o Dir::Etc::SourceList="$APT/$which/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$APT/$which/lists" \
		-o Dir::Cache::archives="$APT/$which/archives" \
		-o APT::Sandbox::User=root "$@"
}

apt_private_update() {
	local uri key=/usr/share/keyrings/debian-archive-keyring.gpg which suites
	uri=$(apt_mirror)
	for which in install download; do
		case $which in
		install) suites="bookworm bookworm-updates bookworm-backports" ;;
		download) suites="trixie-backports" ;;
		esac
		mkdir -p "$APT/$which/lists/partial" "$APT/$which/archives/partial"
		for s in $suites; do
			echo "deb [signed-by=$key] $uri $s main"
		done >"$APT/$which/sources.list.new"
		if ! cmp -s "$APT/$which/sources.list.new" "$APT/$which/sources.list" ||
			[ -z "$(find "$APT/$which/lists" -maxdepth 1 -name '*Packages*' -mmin -720 2>/dev/null)" ]; then
			mv "$APT/$which/sources.list.new" "$APT/$which/sources.list"
			log "apt: updating the private '$which' package lists"
			apt_private "$which" update >/dev/null
		else
			rm -f "$APT/$which/sources.list.new"
		fi
	done
}

# The kernel version the cache holds (set by fetch).
kver() { cat "$BASE/kver" 2>/dev/null || die "no kernel source: run 'make fetch'"; }

# The kselftest KTAP helpers (tools/testing/selftests/kselftest/ktap_helpers.sh), from the
# pristine source that fetch unpacks: every test runner here reports in KTAP.
ktap_helpers() {
	local h=$SRC/tools/testing/selftests/kselftest/ktap_helpers.sh
	[ -f "$h" ] || die "no $h: run 'make fetch'"
	echo "$h"
}

# ktap_count FILE...: "PASSED FAILED SKIPPED" over the KTAP documents in the files, each
# starting at its version line. A result is a line "ok N ..." (skipped if it carries a SKIP
# directive) or "not ok N ..."; a document that has no plan, or whose results do not add up
# to its plan (it stopped, bailed out or reported too much), counts the difference, at least
# one, as failures.
ktap_count() {
	awk '
		function done_doc(   n, d) {
			if (!indoc) return
			n = p + f + s
			if (!hasplan) f++
			else if (n != plan) { d = plan - n; f += d > 0 ? d : 1 }
			P += p; F += f; S += s
			indoc = 0; hasplan = 0; p = f = s = 0
		}
		/^(TAP|KTAP) version [0-9]+/ { done_doc(); indoc = 1; next }
		!indoc { next }
		/^1\.\.[0-9]+/ { plan = substr($1, 4) + 0; hasplan = 1; next }
		/^ok [0-9]+( |$)/ { if ($0 ~ /#[ \t]*SKIP/) s++; else p++; next }
		/^not ok [0-9]+( |$)/ { f++; next }
		END { done_doc(); print P + 0, F + 0, S + 0 }
	' "$@"
}
