#!/usr/bin/env bash
# Installs the real clients and daemons the integration tests drive, from
# Debian's packages. Runs as root; does nothing when all are present.
set -euo pipefail

packages=(
  openssh-client openssh-server sshpass curl ca-certificates nginx-light apache2 openssl systemd
  postgresql redis-server docker.io docker-compose
  # Oracles and clients of the decoys.
  postfix dovecot-imapd dovecot-pop3d swaks libnet-ssleay-perl libio-socket-ssl-perl libauthen-sasl-perl libauthen-ntlm-perl
  vsftpd lftp ftp tftp-hpa tftpd-hpa libpcre2-8-0 libwrap0
  telnet inetutils-telnetd putty-tools nmap whatweb asciinema debootstrap wget ssl-cert chromium rsyslog rsyslog-gnutls
  busybox-static
)

# Courier conflicts with Dovecot (both provide imap-server and
# pop3-server), so its packages are unpacked, never installed. They are the
# oracle of the Courier personas, which decoys/mailbox/couriertest runs.
courier_root=/opt/decnet-oracles/courier
courier_debs=(courier-imap courier-pop courier-base courier-authlib libcourier-unicode4 libgamin0 libidn12)

unpack_courier() {
  [ -x "$courier_root/usr/sbin/couriertcpd" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "integration/setup.sh: courier is not unpacked in $courier_root; run as root" >&2
    return 1
  fi
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq "${courier_debs[@]}")
  mkdir -p "$courier_root"
  for deb in "$tmp"/*.deb; do
    dpkg-deb -x "$deb" "$courier_root"
  done
  rm -rf "$tmp"
}

# Exim conflicts with Postfix (both are the mail-transport-agent), so
# its packages are unpacked too, with the libraries exim4-daemon-light
# links against that are not installed. They are the oracle of the SMTP
# decoy's Exim persona, which decoys/smtp/exim_integration_test.go runs.
exim_root=/opt/decnet-oracles/exim4

# lib_closure prints the library packages that the given packages depend
# on, directly or through other libraries.
lib_closure() {
  local seen=" " todo next p
  todo=$(apt-cache depends "$@" | awk '$1 == "Depends:" && $2 ~ /^lib/ {print $2}' | sort -u)
  while [ -n "$todo" ]; do
    next=""
    for p in $todo; do
      case "$seen" in *" $p "*) continue ;; esac
      seen="$seen$p "
      next="$next $(apt-cache depends "$p" | awk '$1 == "Depends:" && $2 ~ /^lib/ {print $2}')"
    done
    todo=$(printf '%s\n' $next | sort -u)
  done
  printf '%s\n' $seen
}

unpack_exim() {
  [ -x "$exim_root/usr/sbin/exim4" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "integration/setup.sh: exim is not unpacked in $exim_root; run as root" >&2
    return 1
  fi
  local debs=(exim4-daemon-light exim4-base exim4-config) p tmp
  for p in $(lib_closure exim4-daemon-light); do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || debs+=("$p")
  done
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq "${debs[@]}")
  mkdir -p "$exim_root.tmp"
  for deb in "$tmp"/*.deb; do
    dpkg-deb -x "$deb" "$exim_root.tmp"
  done
  rm -rf "$tmp" "$exim_root"
  # Renamed last, so that an interrupted run leaves no exim4 binary that
  # the check above would take for a complete unpack.
  mv "$exim_root.tmp" "$exim_root"
}

# ProFTPD conflicts with vsftpd (both provide ftp-server), so Debian's
# proftpd-core and the libraries it needs beyond the packages above are
# unpacked, never installed. They are the oracle of the FTP decoy's
# ProFTPD persona, which decoys/ftp runs in a private mount namespace.
proftpd_root=/opt/decnet-oracles/proftpd
proftpd_debs=(proftpd-core libhiredis0.14 libmemcached11 libmemcachedutil2 libhashkit2 libpcre2-posix3)

unpack_proftpd() {
  [ -x "$proftpd_root/usr/sbin/proftpd" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "integration/setup.sh: proftpd is not unpacked in $proftpd_root; run as root" >&2
    return 1
  fi
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq "${proftpd_debs[@]}")
  mkdir -p "$proftpd_root"
  for deb in "$tmp"/*.deb; do
    dpkg-deb -x "$deb" "$proftpd_root"
  done
  rm -rf "$tmp"
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# atftpd conflicts with tftpd-hpa (both ship /usr/sbin/in.tftpd), so its
# package is unpacked beside the system rather than installed. The TFTP
# oracle test runs the binary from there.
atftpd_root=/opt/decnet-oracles/atftpd
if [ ${#missing[@]} -eq 0 ] && [ -x "$atftpd_root/usr/sbin/atftpd" ] && [ -x "$courier_root/usr/sbin/couriertcpd" ] &&
  [ -x "$exim_root/usr/sbin/exim4" ] && [ -x "$proftpd_root/usr/sbin/proftpd" ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "integration/setup.sh: missing packages ${missing[*]}; run as root to install them" >&2
  exit 1
fi

# Daemons installed as test oracles must not start on their default ports:
# a policy-rc.d that returns 101 tells invoke-rc.d to leave them stopped.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 0755 "$policy"
  created_policy=1
fi
trap '[ "$created_policy" -eq 1 ] && rm -f "$policy"' EXIT

export DEBIAN_FRONTEND=noninteractive
# Postfix asks how mail leaves the host; the tests run it by hand.
echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
echo "postfix postfix/mailname string decnet-test.invalid" | debconf-set-selections
apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ ! -x "$atftpd_root/usr/sbin/atftpd" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq atftpd)
  mkdir -p "$atftpd_root"
  dpkg-deb -x "$tmp"/atftpd_*.deb "$atftpd_root"
  rm -rf "$tmp"
fi
unpack_courier
unpack_exim
unpack_proftpd
