//go:build integration

// Package couriertest starts Debian 12's real Courier (courierpop3login,
// imaplogin and their mail daemons behind couriertcpd) as the oracle of
// the POP3 and IMAP decoys' Courier personas. Courier conflicts with
// Dovecot, so integration/setup.sh unpacks its packages into Root
// instead of installing them. The daemons run on free loopback ports
// with Debian's /etc/courier defaults, inside a private mount namespace
// whose /run is a temporary directory. There this package serves the
// authdaemon socket that Courier's login programs query. It knows one
// user, whose maildir contains the decoy's generated messages.
package couriertest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys/mailbox"
)

// Root is the directory into which integration/setup.sh unpacks
// courier-imap, courier-pop and the libraries they need.
const Root = "/opt/decnet-oracles/courier"

// mailUser owns the maildir. Courier runs the mail daemons as the user
// that the authdaemon names and looks that name up in /etc/passwd, so it
// must exist: Debian's "nobody" (65534) always does.
const (
	mailUser = "nobody"
	mailUID  = 65534
	mailGID  = 65534
)

// Oracle is a running Courier.
type Oracle struct {
	POP3 string // address of the POP3 listener
	IMAP string // address of the IMAP listener
	Dir  string
}

// Start runs Courier with user:password and the mailbox box delivered to
// it. It skips the test when Courier is not unpacked or the test is not
// root (a mount namespace and the switch to the mail user need it).
func Start(t *testing.T, user, password string, box *mailbox.Mailbox, seed []byte) *Oracle {
	t.Helper()
	if _, err := os.Stat(filepath.Join(Root, "usr/sbin/couriertcpd")); err != nil {
		t.Skip("courier is not unpacked in " + Root + " (integration/setup.sh)")
	}
	if os.Geteuid() != 0 {
		t.Skip("courier needs root for its mount namespace")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare is missing")
	}

	dir, err := os.MkdirTemp("", "couriertest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	// The mail daemons run as mailUser and must reach the maildir.
	if err := os.Chmod(dir, 0o755); err != nil { //nolint:gosec // G302: see above
		t.Fatal(err)
	}
	sockDir := filepath.Join(dir, "run", "courier", "authdaemon")
	if err := os.MkdirAll(sockDir, 0o755); err != nil { //nolint:gosec // G301: as for dir
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	deliver(t, filepath.Join(home, "Maildir"), box)

	cert, err := mailbox.Certificate(seed, "mail01")
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	pemData := append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})...)
	certPath := filepath.Join(dir, "courier.pem")
	// couriertls reads it as the courier user, and it is a throwaway
	// test key.
	if err := os.WriteFile(certPath, pemData, 0o644); err != nil { //nolint:gosec // G306: see above
		t.Fatal(err)
	}

	serveAuthdaemon(t, filepath.Join(sockDir, "socket"), user, password, home)
	writeAccounts(t, dir)

	o := &Oracle{Dir: dir}
	pop3Port, imapPort := freePort(t), freePort(t)
	for _, d := range []struct {
		conf, login, daemon string
		port                int
		addr                *string
	}{
		{"imapd", "usr/lib/courier/courier/imaplogin", "usr/bin/imapd", imapPort, &o.IMAP},
		{"pop3d", "usr/lib/courier/courier/courierpop3login", "usr/lib/courier/courier/courierpop3d", pop3Port, &o.POP3},
	} {
		*d.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(d.port))
		start(t, unshare, dir, certPath, d.conf, d.login, d.daemon, d.port)
		waitListen(t, *d.addr)
	}
	return o
}

// start runs couriertcpd for one protocol as Debian's init script does,
// with its configuration files sourced from the unpacked package.
func start(t *testing.T, unshare, dir, certPath, conf, login, daemon string, port int) {
	t.Helper()
	etc := filepath.Join(Root, "etc/courier")
	script := fmt.Sprintf(`set -a
. %[1]s/%[2]s-ssl
. %[1]s/%[2]s
set +a
IMAP_STARTTLS=$IMAPDSTARTTLS
POP3_STARTTLS=${POP3_STARTTLS:-YES}
COURIERTLS=%[3]s/usr/bin/couriertls
TLS_CERTFILE=%[4]s
TLS_CACHEFILE=
LD_LIBRARY_PATH=%[3]s/usr/lib/x86_64-linux-gnu:%[3]s/usr/lib
export IMAP_STARTTLS POP3_STARTTLS COURIERTLS TLS_CERTFILE TLS_CACHEFILE LD_LIBRARY_PATH
mount --bind %[5]s/run /run && mount --bind %[5]s/passwd /etc/passwd && mount --bind %[5]s/group /etc/group || exit 1
exec %[3]s/usr/sbin/couriertcpd -address=127.0.0.1 -nodnslookup -noidentlookup -stderr=%[5]s/%[2]s.log %[6]d %[3]s/%[7]s %[3]s/%[8]s Maildir
`, etc, conf, Root, certPath, dir, port, login, daemon)

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, unshare, "-m", "sh", "-c", script) //nolint:gosec // G204: the unpacked courier on this test's own files
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start courier %s: %v", conf, err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
}

// writeAccounts copies /etc/passwd and /etc/group with the courier user
// that Debian's courier-base creates at install time; the login programs
// switch to it to run couriertls. The copies are mounted over the
// originals inside the namespace only.
func writeAccounts(t *testing.T, dir string) {
	t.Helper()
	for _, f := range []struct{ name, line string }{
		{"passwd", fmt.Sprintf("courier:x:%d:%d:Courier Mail Server:/nonexistent:/usr/sbin/nologin\n", mailUID, mailGID)},
		{"group", fmt.Sprintf("courier:x:%d:\n", mailGID)},
	} {
		orig, err := os.ReadFile("/etc/" + f.name)
		if err != nil {
			t.Fatal(err)
		}
		// World-readable like the originals they stand in for.
		if err := os.WriteFile(filepath.Join(dir, f.name), append(orig, f.line...), 0o644); err != nil { //nolint:gosec // G306: see above
			t.Fatal(err)
		}
	}
}

// serveAuthdaemon serves Courier's authdaemon protocol on path. An
// "AUTH <n>" request carries the service, the method and, for the login
// method, the user and password on separate lines. A match gets the
// account record, anything else FAIL.
func serveAuthdaemon(t *testing.T, path, user, password, home string) {
	t.Helper()
	var lc net.ListenConfig
	ln, err := lc.Listen(t.Context(), "unix", path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o777); err != nil { //nolint:gosec // G302: the login programs connect after dropping nothing, but keep it open
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	record := fmt.Sprintf("USERNAME=%s\nADDRESS=%s\nUID=%d\nGID=%d\nHOME=%s\nMAILDIR=%s/Maildir\n.\n",
		mailUser, user, mailUID, mailGID, home, home)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = conn.Close() }()
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				req := readRequest(bufio.NewReader(conn))
				reply := "FAIL\n"
				if strings.Contains(req, "\nlogin\n"+user+"\n"+password+"\n") {
					reply = record
				}
				_, _ = conn.Write([]byte(reply))
			}()
		}
	}()
}

// readRequest reads the meta lines and the AUTH request with its body.
func readRequest(r *bufio.Reader) string {
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			return b.String()
		}
		if n, ok := strings.CutPrefix(strings.TrimSpace(line), "AUTH "); ok {
			size, _ := strconv.Atoi(n)
			body := make([]byte, max(size, 0))
			_, _ = io.ReadFull(r, body)
			b.Write(body)
			return b.String()
		}
	}
}

// deliver writes box as a maildir++ owned by the mail user, the other
// folders as ".Name" beside the inbox. Courier numbers the messages
// itself, in the order of the file names.
func deliver(t *testing.T, root string, box *mailbox.Mailbox) {
	t.Helper()
	for _, f := range box.Folders {
		dir := root
		if f.Name != mailbox.Inbox {
			dir = filepath.Join(root, "."+f.Name)
		}
		deliverFolder(t, dir, f, f.Name != mailbox.Inbox)
	}
	err := filepath.Walk(filepath.Dir(root), func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, mailUID, mailGID) //nolint:gosec // G122: a temporary tree this package just wrote, and Lchown follows no link
	})
	if err != nil {
		t.Fatal(err)
	}
}

func deliverFolder(t *testing.T, root string, f *mailbox.Folder, sub bool) {
	t.Helper()
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if sub {
		// maildirmake -f marks a folder with this empty file.
		if err := os.WriteFile(filepath.Join(root, "maildirfolder"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range f.Messages {
		name := fmt.Sprintf("%d.M%06dP%d.mail01:2,", m.Internal.Unix(), i+1, 100+i)
		if m.Seen {
			name += "S"
		}
		p := filepath.Join(root, "cur", name)
		// A maildir holds messages with bare line feeds, as Courier's
		// delivery agents write them; the daemons add the CRs.
		raw := bytes.ReplaceAll(m.Raw, []byte("\r\n"), []byte("\n"))
		if err := os.WriteFile(p, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, m.Internal, m.Internal); err != nil {
			t.Fatal(err)
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	var lc net.ListenConfig
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }() // the port number is all this needs
	return ln.Addr().(*net.TCPAddr).Port
}

func waitListen(t *testing.T, addr string) {
	t.Helper()
	for i := 0; ; i++ {
		var d net.Dialer
		conn, err := d.DialContext(t.Context(), "tcp", addr)
		if err == nil {
			_ = conn.Close()
			return
		}
		if i == 100 {
			t.Fatalf("courier did not listen on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
