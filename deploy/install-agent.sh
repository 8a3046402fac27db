#!/bin/sh
# install-agent.sh installs, enrolls and starts a DECNET agent on this host.
#
# Usage:
#   install-agent.sh --server https://HOST:PORT (--token T | --token-file F) [--name N] [--decoys FILE]
#
# The token may also come from DECNET_ENROLL_TOKEN. Every download comes
# from the control plane at --server, over TLS verified against the CA root
# whose SHA-256 fingerprint the bootstrap token carries; nothing is fetched
# from anywhere else and certificate checks are never disabled.
#
# Environment overrides, for tests and unusual hosts:
#   DECNET_ROOT      prefix for every installed path (default: empty, the real root)
#   SYSTEMCTL        systemctl command (default: systemctl)
#   DECNET_USERADD   command that creates the system user, given the user name as its
#                    last argument (default: useradd --system ... )
#   DECNET_CHOWN     chown command (default: chown)
#   DECNET_RUNAS     command prefix that runs a command as the agent user
#                    (default: runuser -u decnet-agent --)
#   DECNET_DECOY_SSH_LISTEN, DECNET_DECOY_HTTP_LISTEN
#                    listen addresses of the default decoys (0.0.0.0:2222, 0.0.0.0:8080)
#
# Requirements: POSIX sh, openssl, curl, base64, od, awk, and sha256sum or
# openssl for the checksum.
set -eu

agent_user=decnet-agent
token_prefix=DNT1.

die() {
	printf 'install-agent.sh: %s\n' "$*" >&2
	exit 1
}

say() {
	printf 'install-agent.sh: %s\n' "$*" >&2
}

usage() {
	cat >&2 <<'USAGE'
Usage: install-agent.sh --server https://HOST:PORT (--token T | --token-file F) [--name N] [--decoys FILE]

  --server URL       enrollment URL of the control plane (decnet tokens create prints it)
  --token T          bootstrap token; DECNET_ENROLL_TOKEN or --token-file keep it out of ps
  --token-file F     file holding the bootstrap token
  --name N           agent name, used when the token was created without one
  --decoys FILE      decoy configuration to install as /etc/decnet/decoys.yaml
USAGE
}

# token_fingerprint prints the hex SHA-256 of the CA root that the token
# pins. The token is "DNT1." then base64url without padding of 80 bytes:
# agent UUID (16), secret (32) and root fingerprint (32).
token_fingerprint() {
	payload=${1#"$token_prefix"}
	[ "$payload" != "$1" ] || die "invalid bootstrap token: it does not start with $token_prefix"

	b64=$(printf '%s' "$payload" | tr -- '-_' '+/')
	case $((${#b64} % 4)) in
	0) ;;
	2) b64="$b64==" ;;
	3) b64="$b64=" ;;
	*) die "invalid bootstrap token: payload length ${#b64} is not valid base64url" ;;
	esac

	printf '%s' "$b64" | base64 -d >"$work/token.bin" 2>/dev/null ||
		die "invalid bootstrap token: payload is not base64url"
	size=$(wc -c <"$work/token.bin" | tr -d ' ')
	[ "$size" -eq 80 ] || die "invalid bootstrap token: payload is $size bytes, want 80"
	od -An -v -tx1 -j48 -N32 "$work/token.bin" | tr -d ' \n'
}

# cert_fingerprint prints the lowercase hex SHA-256 of a PEM certificate's
# DER encoding.
cert_fingerprint() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}

# fetch_pinned_root writes to $work/root.pem the certificate, among those
# the server sends, whose fingerprint is $1. The handshake that collects
# them verifies nothing; every later connection is verified against the
# root it yields. This is the shell form of pki.FetchPinnedRoot.
fetch_pinned_root() {
	openssl s_client -connect "$hostport" -showcerts </dev/null >"$work/chain.txt" 2>"$work/s_client.err" || true
	awk -v dir="$work" '
		/-----BEGIN CERTIFICATE-----/ { n++; f = dir "/received." n ".pem" }
		f != "" { print > f }
		/-----END CERTIFICATE-----/ { close(f); f = "" }
	' "$work/chain.txt"

	received=""
	for cert in "$work"/received.*.pem; do
		[ -f "$cert" ] || continue
		fp=$(cert_fingerprint "$cert")
		received="$received $fp"
		[ "$fp" = "$1" ] || continue
		# The pinned certificate must be a self-signed CA certificate, as
		# a root is; verifying it against itself checks both.
		openssl verify -CAfile "$cert" "$cert" >/dev/null 2>&1 ||
			die "the certificate matching the pinned fingerprint $1 is not a self-signed CA certificate"
		cp "$cert" "$work/root.pem"
		return 0
	done

	if [ -z "$received" ]; then
		say "openssl s_client output: $(cat "$work/s_client.err")"
		die "no TLS certificate received from $hostport: check --server and that the control plane runs"
	fi
	die "server $hostport did not present the pinned CA root: expected root fingerprint $1, received certificate fingerprints [${received# }]; check that the token was created by this server's CA"
}

# fetch downloads $1 (a path on the server) to $2, verifying the server
# against the pinned root only. The empty --capath keeps curl from also
# trusting a compiled-in system CA directory.
fetch() {
	curl --proto '=https' --tlsv1.2 --fail --silent --show-error --location --max-redirs 0 \
		--cacert "$work/root.pem" --capath "$work/no-capath" \
		--connect-timeout 15 --max-time 600 \
		--output "$2" "$server$1" ||
		die "download of $server$1 failed"
}

sha256_of() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | awk '{ print $1 }'
	else
		openssl dgst -sha256 -r "$1" | awk '{ print $1 }'
	fi
}

agent_platform() {
	case $(uname -s) in
	Linux) os=linux ;;
	*) die "unsupported operating system $(uname -s): the agent runs on Linux" ;;
	esac
	case $(uname -m) in
	x86_64 | amd64) arch=amd64 ;;
	aarch64 | arm64) arch=arm64 ;;
	armv7l | armv6l) arch=arm ;;
	i386 | i686) arch=386 ;;
	riscv64) arch=riscv64 ;;
	ppc64le) arch=ppc64le ;;
	s390x) arch=s390x ;;
	*) die "unsupported machine $(uname -m)" ;;
	esac
	printf '%s-%s' "$os" "$arch"
}

# write_default_decoys writes one decky with SSH and HTTP on unprivileged
# ports and a fresh random seed.
write_default_decoys() {
	seed=$(od -An -v -tx1 -N32 /dev/urandom | tr -d ' \n')
	cat >"$1" <<EOF
# Written by install-agent.sh. Keep the seed: a new one gives the decky new
# SSH host keys. Ports below 1024 work too; the unit grants
# CAP_NET_BIND_SERVICE.
deckies:
  - name: decky-01
    seed: $seed
    services:
      - {name: ssh, persona: openssh-9.2p1-debian12, listen: "${DECNET_DECOY_SSH_LISTEN:-0.0.0.0:2222}"}
      - {name: http, persona: nginx-1.22.1-debian12, listen: "${DECNET_DECOY_HTTP_LISTEN:-0.0.0.0:8080}"}
EOF
}

main() {
	server=""
	token=""
	token_file=""
	name=""
	decoys=""
	while [ $# -gt 0 ]; do
		case $1 in
		--server) [ $# -ge 2 ] || die "--server needs a value"; server=$2; shift 2 ;;
		--server=*) server=${1#*=}; shift ;;
		--token) [ $# -ge 2 ] || die "--token needs a value"; token=$2; shift 2 ;;
		--token=*) token=${1#*=}; shift ;;
		--token-file) [ $# -ge 2 ] || die "--token-file needs a value"; token_file=$2; shift 2 ;;
		--token-file=*) token_file=${1#*=}; shift ;;
		--name) [ $# -ge 2 ] || die "--name needs a value"; name=$2; shift 2 ;;
		--name=*) name=${1#*=}; shift ;;
		--decoys) [ $# -ge 2 ] || die "--decoys needs a value"; decoys=$2; shift 2 ;;
		--decoys=*) decoys=${1#*=}; shift ;;
		-h | --help) usage; exit 0 ;;
		*) usage; die "unknown argument $1" ;;
		esac
	done

	[ -n "$server" ] || { usage; die "--server is required"; }
	case $server in
	https://*) ;;
	*) die "invalid --server $server: want https://HOST:PORT" ;;
	esac
	server=${server%/}
	hostport=${server#https://}
	case $hostport in
	*/*) die "invalid --server $server: want https://HOST:PORT without a path" ;;
	*:*) ;;
	*) hostport="$hostport:8444" ;;
	esac

	sources=0
	[ -z "$token" ] || sources=$((sources + 1))
	[ -z "$token_file" ] || sources=$((sources + 1))
	[ -z "${DECNET_ENROLL_TOKEN:-}" ] || sources=$((sources + 1))
	[ "$sources" -eq 1 ] || die "pass the bootstrap token exactly once: --token, --token-file or DECNET_ENROLL_TOKEN"
	if [ -n "$token_file" ]; then
		token=$(cat "$token_file") || die "read token file $token_file failed"
	elif [ -z "$token" ]; then
		token=$DECNET_ENROLL_TOKEN
	fi
	# decnet-agent enroll rejects a token given twice, and it gets this one
	# from a file.
	unset DECNET_ENROLL_TOKEN
	token=$(printf '%s' "$token" | tr -d ' \t\r\n')

	[ -z "$decoys" ] || [ -r "$decoys" ] || die "decoy configuration $decoys is not readable"

	root=${DECNET_ROOT:-}
	systemctl_cmd=${SYSTEMCTL:-systemctl}
	useradd_cmd=${DECNET_USERADD:-useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin}
	chown_cmd=${DECNET_CHOWN:-chown}
	runas_cmd=${DECNET_RUNAS:-runuser -u $agent_user --}
	if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then
		die "run as root: the script creates a system user and installs a systemd unit"
	fi
	for tool in openssl curl base64 od awk; do
		command -v "$tool" >/dev/null 2>&1 || die "$tool not found: install it and run again"
	done

	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	trap 'exit 1' HUP INT TERM
	mkdir "$work/no-capath"

	# 1. Pin: the root the token names, taken from the server's chain.
	fingerprint=$(token_fingerprint "$token")
	fetch_pinned_root "$fingerprint"
	say "control plane $hostport presents the pinned CA root $fingerprint"

	# 2. Download the binary, its checksum and the unit, all verified
	# against that root, and check the binary before installing anything.
	platform=$(agent_platform)
	fetch "/download/decnet-agent/$platform" "$work/decnet-agent"
	fetch "/download/decnet-agent/$platform.sha256" "$work/decnet-agent.sha256"
	fetch "/download/decnet-agent.service" "$work/decnet-agent.service"
	want=$(awk 'NR == 1 { print $1 }' "$work/decnet-agent.sha256")
	got=$(sha256_of "$work/decnet-agent")
	[ "$want" = "$got" ] || die "checksum mismatch for decnet-agent ($platform): expected $want from the server, downloaded file has $got; nothing installed"
	say "downloaded decnet-agent for $platform, SHA-256 $got"

	# 3. Install the binary, the user and the directories.
	mkdir -p "$root/usr/local/bin" "$root/etc/decnet" "$root/etc/systemd/system" "$root/var/lib"
	cp "$work/decnet-agent" "$root/usr/local/bin/.decnet-agent.new"
	chmod 0755 "$root/usr/local/bin/.decnet-agent.new"
	mv -f "$root/usr/local/bin/.decnet-agent.new" "$root/usr/local/bin/decnet-agent"

	if id -u "$agent_user" >/dev/null 2>&1; then
		say "user $agent_user exists"
	else
		# shellcheck disable=SC2086 # the command is a word list on purpose
		$useradd_cmd "$agent_user" || die "create user $agent_user failed"
	fi
	data_dir="$root/var/lib/decnet-agent"
	mkdir -p "$data_dir"
	chmod 0700 "$data_dir"
	$chown_cmd "$agent_user:$agent_user" "$data_dir" || die "chown $data_dir failed"
	chmod 0755 "$root/etc/decnet"

	# 4. Enroll as the agent user, so its key is never owned by root. The
	# token goes through a file only that user can read: on the command
	# line any local user would see it, and the agent user cannot open a
	# pipe created by root through /dev/stdin.
	# An existing identity is kept, so a second run upgrades the binary and
	# the unit without enrolling again.
	reinstall=no
	if [ -e "$data_dir/agent.json" ]; then
		reinstall=yes
		say "agent already enrolled ($data_dir/agent.json exists); keeping its identity, the token stays unused"
	else
		token_path="$data_dir/bootstrap-token"
		(umask 077 && printf '%s\n' "$token" >"$token_path")
		trap 'rm -rf "$work"; rm -f "$token_path"' EXIT
		$chown_cmd "$agent_user:$agent_user" "$token_path" || die "chown $token_path failed"
		set -- enroll --server "$server" --token-file "$token_path" --data-dir "$data_dir"
		[ -z "$name" ] || set -- "$@" --name "$name"
		# shellcheck disable=SC2086 # the prefix is a word list on purpose
		$runas_cmd "$root/usr/local/bin/decnet-agent" "$@" ||
			die "decnet-agent enroll failed; the binary is installed, fix the cause and run again with a new token"
		rm -f "$token_path"
	fi

	# 5. Decoy configuration: readable by the agent's group only, because
	# the seed derives the deckies' host keys.
	decoys_path="$root/etc/decnet/decoys.yaml"
	if [ -n "$decoys" ]; then
		cp "$decoys" "$decoys_path.new"
		mv -f "$decoys_path.new" "$decoys_path"
	elif [ ! -e "$decoys_path" ]; then
		write_default_decoys "$decoys_path"
		say "wrote a default decoy configuration to $decoys_path"
	fi
	chmod 0640 "$decoys_path"
	$chown_cmd "root:$agent_user" "$decoys_path" || die "chown $decoys_path failed"

	# 6. The systemd unit.
	cp "$work/decnet-agent.service" "$root/etc/systemd/system/decnet-agent.service"
	chmod 0644 "$root/etc/systemd/system/decnet-agent.service"
	$systemctl_cmd daemon-reload || die "systemctl daemon-reload failed"
	$systemctl_cmd enable --now decnet-agent || die "systemctl enable --now decnet-agent failed"
	if [ "$reinstall" = yes ]; then
		# enable --now leaves a running agent on the old binary.
		$systemctl_cmd try-restart decnet-agent || die "systemctl try-restart decnet-agent failed"
	fi
	say "decnet-agent installed, enrolled and started; logs: journalctl -u decnet-agent"
}

# Everything runs from main, called on the last line, so a script cut short
# in transit (curl | sh) runs nothing.
main "$@"
