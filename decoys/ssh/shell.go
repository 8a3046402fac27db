package ssh

import (
	"context"
	"net/netip"
	"time"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/login"
	"github.com/decnet/decnet/decoys/recording"
	"github.com/decnet/decnet/decoys/shell"
	"github.com/decnet/decnet/decoys/ssh/sshserver"
)

// Terminal size of a shell without a pty-req, as sshd leaves it.
const (
	defaultColumns = 80
	defaultRows    = 24
)

// maxCommandBytes caps an exec command line recorded in a command event;
// sshd itself takes any line that fits in a packet.
const maxCommandBytes = 8192

// applyLoginPolicy sets AcceptFrom from the decky's login policy (the
// service options "login" and "credentials"). Passwords and
// keyboard-interactive answers count; public keys never log in, since the
// decoy knows no authorized keys.
func (s *Service) applyLoginPolicy(opts map[string]string, seed []byte) error {
	policy, err := login.Parse(opts, seed)
	if err != nil {
		return err
	}
	if mode := opts[login.KeyLogin]; mode == "" || mode == login.ModeNever || s.persona.noLogin {
		// Nothing logs in; leave the hooks to callers that set them.
		return nil
	}
	s.AcceptFrom = func(source netip.Addr, user, method string, secret []byte) bool {
		if method == sshserver.MethodPublicKey {
			return false
		}
		return policy.Allow(source, user, secret)
	}
	return nil
}

// shellSession serves the session channels of an accepted login: an
// emulated shell for "shell" (recorded) and "exec", SFTP for the sftp
// subsystem.
func (s *Service) shellSession(session *decoys.Session, user string) func(ctx context.Context, ch *sshserver.Channel) {
	return func(ctx context.Context, ch *sshserver.Channel) {
		newShell := func(channel string) *shell.Shell {
			return shell.New(shell.ForSession(shell.Config{
				OS:   s.persona.shellOS,
				Seed: s.seed,
				User: user,
			}, session, channel, s.fetcher))
		}
		switch ch.Request {
		case "subsystem":
			if ch.Subsystem == "sftp" {
				_ = serveSFTP(ctx, ch, session, s.quarantine, user, s.now)
			}
			_ = ch.Exit(0)
		case "exec":
			line := ch.Command
			if len(line) > maxCommandBytes {
				line = line[:maxCommandBytes]
			}
			status := newShell("exec").Exec(ctx, line, ch, ch.Stderr())
			_ = ch.Exit(uint32(status)) //nolint:gosec // G115: shell exit statuses are 0 to 255
		default:
			s.interactive(ctx, ch, newShell("shell"), session)
		}
	}
}

// interactive runs a recorded login shell on the channel.
func (s *Service) interactive(ctx context.Context, ch *sshserver.Channel, sh *shell.Shell, session *decoys.Session) {
	width, height, term := defaultColumns, defaultRows, "xterm"
	if pty := ch.PTY(); pty != nil {
		if pty.Size.Columns > 0 && pty.Size.Rows > 0 {
			width, height = int(pty.Size.Columns), int(pty.Size.Rows)
		}
		if pty.Term != "" {
			term = pty.Term
		}
	}
	rec := recording.Start(recording.Options{Dir: s.recordingDir}, width, height, term, s.now)
	defer func() { session.Recorded(rec.Close()) }()
	sh.Resize(width, height)

	resizeCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		for {
			select {
			case <-resizeCtx.Done():
				return
			case size := <-ch.Resized():
				sh.Resize(int(size.Columns), int(size.Rows))
				rec.Resize(int(size.Columns), int(size.Rows))
			}
		}
	}()

	terminal := rec.Wrap(ch)
	_, _ = terminal.Write([]byte(sh.Motd(s.now(), time.Time{}, "")))
	_ = sh.Interactive(ctx, terminal)
	_ = ch.Exit(0)
}
