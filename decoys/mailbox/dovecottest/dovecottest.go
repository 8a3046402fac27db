//go:build integration

// Package dovecottest starts Debian's real Dovecot as the oracle of the
// POP3 and IMAP decoys: in the foreground, on free loopback ports, with a
// configuration in a temporary directory that keeps Debian's defaults
// (ssl = yes, disable_plaintext_auth = yes, auth_mechanisms = plain,
// 15-mailboxes.conf) and one passwd-file user, whose maildir holds the
// decoy's generated messages so that replies can match byte for byte.
package dovecottest

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys/mailbox"
)

// Oracle is a running Dovecot.
type Oracle struct {
	POP3 string // address of the POP3 listener
	IMAP string // address of the IMAP listener
	Dir  string
}

// Start runs Dovecot with user:password and the mailbox box delivered to
// it. It skips the test when Dovecot is missing or the test is not root.
func Start(t *testing.T, user, password string, box *mailbox.Mailbox, seed []byte) *Oracle {
	t.Helper()
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		bin = "/usr/sbin/dovecot"
		if _, err := os.Stat(bin); err != nil {
			t.Skip("dovecot is not installed (dovecot-imapd, dovecot-pop3d)")
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("dovecot needs root to start its services")
	}
	uid, gid := lookupDovecot(t)

	dir, err := os.MkdirTemp("", "dovecottest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	// Dovecot's unprivileged processes must reach the directory.
	if err := os.Chmod(dir, 0o755); err != nil { //nolint:gosec // G302: see above
		t.Fatal(err)
	}
	for _, d := range []string{"base", "state", "log", "mail"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil { //nolint:gosec // G301: as for dir
			t.Fatal(err)
		}
	}

	cert, err := mailbox.Certificate(seed, "mail01")
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, "cert.pem"), "CERTIFICATE", cert.Certificate[0])
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, "key.pem"), "PRIVATE KEY", keyDER)
	// Dovecot reads its passwd file and configuration after it drops
	// privileges, and both contain only test fixtures.
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(user+":{PLAIN}"+password+"\n"), 0o644); err != nil { //nolint:gosec // G306: see above
		t.Fatal(err)
	}
	deliver(t, filepath.Join(dir, "mail", user), box, uid, gid)

	pop3Port, imapPort := freePort(t), freePort(t)
	conf := fmt.Sprintf(config, dir, imapPort, pop3Port)
	confPath := filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil { //nolint:gosec // G306: as for passwd
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-F", "-c", confPath) //nolint:gosec // G204: the installed dovecot on a config of this test's own
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start dovecot: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})

	o := &Oracle{
		POP3: net.JoinHostPort("127.0.0.1", strconv.Itoa(pop3Port)),
		IMAP: net.JoinHostPort("127.0.0.1", strconv.Itoa(imapPort)),
		Dir:  dir,
	}
	for _, addr := range []string{o.POP3, o.IMAP} {
		waitListen(t, addr, filepath.Join(dir, "log", "dovecot.log"))
	}
	return o
}

// config mirrors `doveconf -n` of Debian 12's dovecot-core with the paths
// moved into the temporary directory: %[1]s is the directory, %[2]d the
// IMAP port, %[3]d the POP3 port.
const config = `base_dir = %[1]s/base
state_dir = %[1]s/state
log_path = %[1]s/log/dovecot.log
listen = 127.0.0.1
protocols = imap pop3
auth_mechanisms = plain
default_internal_user = dovecot
default_login_user = dovenull
ssl = yes
ssl_cert = <%[1]s/cert.pem
ssl_key = <%[1]s/key.pem
ssl_dh = </usr/share/dovecot/dh.pem
ssl_client_ca_dir = /etc/ssl/certs
mail_location = maildir:%[1]s/mail/%%u
mail_uid = dovecot
mail_gid = dovecot
first_valid_uid = 100
namespace inbox {
  inbox = yes
  location =
  mailbox Drafts {
    special_use = \Drafts
  }
  mailbox Junk {
    special_use = \Junk
  }
  mailbox Sent {
    special_use = \Sent
  }
  mailbox "Sent Messages" {
    special_use = \Sent
  }
  mailbox Trash {
    special_use = \Trash
  }
  prefix =
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=%[1]s/mail/%%u
}
service imap-login {
  inet_listener imap {
    port = %[2]d
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = %[3]d
  }
  inet_listener pop3s {
    port = 0
  }
}
service submission-login {
  inet_listener submission {
    port = 0
  }
}
`

// deliver writes box as a maildir with a dovecot-uidlist that fixes the
// decoy's UIDVALIDITY and UIDs, so both servers number alike.
func deliver(t *testing.T, root string, box *mailbox.Mailbox, uid, gid int) {
	t.Helper()
	for _, f := range box.Folders {
		dir := root
		if f.Name != mailbox.Inbox {
			dir = filepath.Join(root, "."+f.Name)
		}
		for _, sub := range []string{"cur", "new", "tmp"} {
			if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
				t.Fatal(err)
			}
		}
		var uidlist strings.Builder
		fmt.Fprintf(&uidlist, "3 V%d N%d\n", f.UIDValidity, f.UIDNext())
		for i, m := range f.Messages {
			base := fmt.Sprintf("%d.M%dP%d.mail01", m.Internal.Unix(), i+1, 100+i)
			name := base + ",S=" + strconv.Itoa(len(m.Raw)) + ":2,"
			if m.Seen {
				name += "S"
			}
			p := filepath.Join(dir, "cur", name)
			if err := os.WriteFile(p, m.Raw, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(p, m.Internal, m.Internal); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&uidlist, "%d :%s\n", m.UID, base+",S="+strconv.Itoa(len(m.Raw)))
		}
		if err := os.WriteFile(filepath.Join(dir, "dovecot-uidlist"), []byte(uidlist.String()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	err := filepath.Walk(filepath.Dir(root), func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid) //nolint:gosec // G122: a temporary tree this package just wrote, and Lchown follows no link
	})
	if err != nil {
		t.Fatal(err)
	}
}

func lookupDovecot(t *testing.T) (int, int) {
	t.Helper()
	u, err := user.Lookup("dovecot")
	if err != nil {
		t.Skipf("no dovecot user: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return uid, gid
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	// Dovecot's login processes read the key after dropping privileges,
	// and it is a throwaway test key.
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o644); err != nil { //nolint:gosec // G306: see above
		t.Fatal(err)
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

func waitListen(t *testing.T, addr, logPath string) {
	t.Helper()
	for i := 0; ; i++ {
		var d net.Dialer
		conn, err := d.DialContext(t.Context(), "tcp", addr)
		if err == nil {
			_ = conn.Close()
			return
		}
		if i == 100 {
			log, _ := os.ReadFile(logPath) //nolint:gosec // G304: the log file of this test's own dovecot
			t.Fatalf("dovecot did not listen on %s: %v\n%s", addr, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
